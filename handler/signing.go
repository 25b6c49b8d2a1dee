package handler

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// SigningConfig configures the signing endpoint (docs/behaviour.md,
// "Signing"), Sirv's
// "POST /v2/files/jwt". It is off unless a program mounts NewSigning.
type SigningConfig struct {
	// Keys are the keys tokens may be signed with, chosen by ID in each
	// request. Required; every key needs an ID.
	Keys []token.Key
	// AdminToken authenticates callers (Authorization: Bearer). Required,
	// at least 32 bytes: anyone holding it can mint URLs for every file.
	AdminToken string
	// BaseURL prefixes the returned URLs, e.g. "https://img.example.com".
	// Default "": root-relative URLs.
	BaseURL string
	// TokenParam is the query parameter of the token. Default "jwt".
	TokenParam string
	// MaxExpiresIn caps expiresIn. Default 30 days.
	MaxExpiresIn time.Duration
	// Limits validate the secure and insecure parameters as the server
	// will. Zero fields take transform.DefaultLimits.
	Limits transform.Limits
	// Watermarks are the folders a signed watermark may come from, as
	// Config.Watermarks: each "/" or a clean folder path ending in "/".
	// None (the default) means no token with a watermark is signed.
	Watermarks []string
	// Logger receives one line per refused request (never the admin token
	// or a secret). Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// maxSigningBody bounds a signing request's body.
const maxSigningBody = 64 << 10

type signing struct {
	cfg     SigningConfig
	rules   signreq.Rules
	admin   [sha256.Size]byte
	signers map[string]*token.Signer
	keys    map[string]token.Key // for NotBefore
}

// NewSigning returns the handler of the signing endpoint. It answers POST
// with a JSON body
//
//	{"filename": "/private/a.jpg", "key": "main", "expiresIn": 300,
//	 "secureParams": {"w": 300}, "insecureParams": {"q": 80}}
//
// by {"url", "token", "expiresAt"} (expiresAt in RFC 3339). Nothing is
// signed that the server would refuse: filename must pass the path rules
// (a folder ends in "/"); secureParams go into the token's args and must
// pass the parameter parser under Limits, name a watermark only inside
// Watermarks and keep the token within token.MaxTokenBytes;
// insecureParams go into the query and must pass the parser too, without
// text or watermark parameters, which the server ignores in a query;
// expiresIn is 1..MaxExpiresIn seconds.
// Errors: 401 without the admin token, 405 for other methods, 413 for a
// body over 64 KiB, 400 with a JSON {"error", "errors"} body for anything
// invalid.
func NewSigning(cfg SigningConfig) (http.Handler, error) {
	if len(cfg.AdminToken) < 32 {
		return nil, errors.New("handler: SigningConfig.AdminToken must be at least 32 bytes")
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("handler: SigningConfig.Keys: at least one key is required")
	}
	if cfg.TokenParam == "" {
		cfg.TokenParam = "jwt"
	}
	if cfg.MaxExpiresIn == 0 {
		cfg.MaxExpiresIn = signreq.DefaultMaxLifetime
	}
	if cfg.MaxExpiresIn < 0 {
		return nil, errors.New("handler: SigningConfig.MaxExpiresIn must not be negative")
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if err := cfg.Limits.Validate(); err != nil {
		return nil, fmt.Errorf("handler: SigningConfig.Limits: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for i, f := range cfg.Watermarks {
		if !strings.HasSuffix(f, "/") || pathrule.CheckFolder(f, pathrule.MaxBytes) != "" {
			return nil, fmt.Errorf("handler: SigningConfig.Watermarks[%d] must be a clean folder path ending in /", i)
		}
	}
	s := &signing{cfg: cfg, admin: sha256.Sum256([]byte(cfg.AdminToken)), signers: map[string]*token.Signer{}, keys: map[string]token.Key{}}
	s.rules = signreq.Rules{Limits: cfg.Limits, Watermarks: cfg.Watermarks, MaxLifetime: cfg.MaxExpiresIn, TokenParam: cfg.TokenParam}
	for i, k := range cfg.Keys {
		if k.ID == "" {
			return nil, fmt.Errorf("handler: SigningConfig.Keys[%d]: a key id is required", i)
		}
		if _, dup := s.signers[k.ID]; dup {
			return nil, fmt.Errorf("handler: SigningConfig.Keys[%d]: duplicate id %q", i, k.ID)
		}
		signer, err := token.NewSigner(k)
		if err != nil {
			return nil, fmt.Errorf("handler: SigningConfig.Keys[%d]: %w", i, err)
		}
		s.signers[k.ID] = signer
		s.keys[k.ID] = k
	}
	return s, nil
}

type signRequest struct {
	Filename       string         `json:"filename"`
	Key            string         `json:"key"`
	ExpiresIn      float64        `json:"expiresIn"`
	SecureParams   map[string]any `json:"secureParams"`
	InsecureParams map[string]any `json:"insecureParams"`
}

type signResponse struct {
	URL       string `json:"url"`
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
}

func (s *signing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		s.fail(w, http.StatusMethodNotAllowed, "method not allowed", nil)
		return
	}
	a := r.Header.Get("Authorization")
	presented := sha256.Sum256([]byte(strings.TrimSpace(strings.TrimPrefix(a, "Bearer "))))
	if !strings.HasPrefix(a, "Bearer ") || subtle.ConstantTimeCompare(presented[:], s.admin[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="keyhole signing"`)
		s.fail(w, http.StatusUnauthorized, "admin token required", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSigningBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.fail(w, http.StatusRequestEntityTooLarge, "body over 64 KiB", nil)
			return
		}
		s.fail(w, http.StatusBadRequest, "unreadable body", nil)
		return
	}
	var req signRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.fail(w, http.StatusBadRequest, "body must be a JSON object with filename, key, expiresIn, secureParams and insecureParams", nil)
		return
	}
	res, status, msg, perrs := s.sign(&req)
	if status != http.StatusOK {
		s.fail(w, status, msg, perrs)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(res)
}

// sign validates a request and mints its URL; on failure it returns the
// status, a fixed message and the failing parameters, if any. Every check
// but the key and the body's shape is signreq.Prepare's, the one the
// WebAssembly signer and keyhole sign use too.
func (s *signing) sign(req *signRequest) (*signResponse, int, string, []transform.ParamError) {
	signer, ok := s.signers[req.Key]
	if !ok {
		return nil, http.StatusBadRequest, "unknown key", nil
	}
	now := s.cfg.Now()
	if s.keys[req.Key].Revokes(now) {
		return nil, http.StatusBadRequest, "the key's not_before is after now: the server would refuse this token (revoked token)", nil
	}
	exp, ok := signreq.ExpiryAfter(now, req.ExpiresIn, s.cfg.MaxExpiresIn)
	if !ok {
		return nil, http.StatusBadRequest, "expiresIn must be 1.." + strconv.FormatInt(int64(s.cfg.MaxExpiresIn/time.Second), 10) + " seconds", nil
	}
	// A filename is an audience: a file, or a prefix such as "/private/"
	// (a folder) or "/" (everything the key guards), as in Sirv.
	sr := &signreq.Request{Path: req.Filename, Folder: true, IssuedAt: now, ExpiresAt: exp}
	if len(req.SecureParams) > 0 {
		sr.Args = req.SecureParams
	}
	if len(req.InsecureParams) > 0 {
		flat, err := transform.FromArgs(req.InsecureParams)
		if err != nil {
			var perrs *transform.Errors
			if !errors.As(err, &perrs) {
				return nil, http.StatusBadRequest, "invalid parameters", nil
			}
			return nil, http.StatusBadRequest, "invalid parameters", prefixed("insecureParams.", perrs.List)
		}
		q := make(url.Values, len(flat))
		for name, v := range flat {
			q.Set(name, v)
		}
		sr.Query = q
	}
	c, q, err := signreq.Prepare(sr, &s.rules)
	if err != nil {
		var e *signreq.Error
		if !errors.As(err, &e) {
			return nil, http.StatusBadRequest, "the request cannot be signed", nil
		}
		switch e.Field {
		case signreq.FieldPath:
			return nil, http.StatusBadRequest, "filename must be an absolute path (or folder ending in /) that passes the path rules: " + e.Reason, nil
		case signreq.FieldArgs, signreq.FieldQuery:
			return nil, http.StatusBadRequest, "invalid parameters", append(prefixed("secureParams.", e.Args), prefixed("insecureParams.", e.Query)...)
		}
		return nil, http.StatusBadRequest, "expiresIn: " + e.Reason, nil
	}
	tok, err := signer.Sign(c)
	switch {
	case errors.Is(err, token.ErrTooLong):
		return nil, http.StatusBadRequest, "secureParams are too large: the token would be longer than " + strconv.Itoa(token.MaxTokenBytes) + " bytes, the longest the server accepts", nil
	case err != nil:
		return nil, http.StatusBadRequest, "secureParams cannot be signed", nil
	}
	u := token.BuildURL(req.Filename, tok, token.URLOptions{BaseURL: s.cfg.BaseURL, Query: q, Param: s.cfg.TokenParam})
	return &signResponse{URL: u, Token: tok, ExpiresAt: c.ExpiresAt.UTC().Format(time.RFC3339)}, http.StatusOK, "", nil
}

// prefixed returns list with each name prefixed, as the request names it.
func prefixed(prefix string, list []transform.ParamError) []transform.ParamError {
	out := make([]transform.ParamError, len(list))
	for i, pe := range list {
		pe.Name = prefix + pe.Name
		out[i] = pe
	}
	return out
}

// fail answers with a JSON error that holds only fixed texts and the
// rejected parameters (values already cut short by transform).
func (s *signing) fail(w http.ResponseWriter, status int, msg string, params []transform.ParamError) {
	s.cfg.Logger.Info("signing request refused", "status", status, "reason", msg)
	body, _ := json.Marshal(struct {
		Error  string                 `json:"error"`
		Params []transform.ParamError `json:"errors,omitempty"`
	}{msg, params})
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
