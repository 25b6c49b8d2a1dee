// Package handler serves files behind expiring signed URLs.
//
// New returns an http.Handler that any Go program mounts (usually under
// http.StripPrefix). For each GET or HEAD request it cleans the path,
// finds the protection with the longest matching prefix, authorises the
// request (an HS256 token for "jwt" protections, HTTP Basic credentials
// for "basic" ones), and then serves the original file with
// http.ServeContent, or a transformed variant when image parameters apply.
//
// Every request gets exactly one token.Result. It decides the status, is
// sent in the X-Keyhole-Auth-Result header and is counted in
// keyhole_auth_results_total{protection,result}. Error bodies carry only
// fixed texts: never a secret, a file system path or Go error text.
package handler

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// Handler serves the files of a Config. It is safe for concurrent use.
type Handler struct {
	cfg         Config
	protections []*protection // longest Path first
	public      *protection   // the pseudo-protection of unprotected paths
	metrics     *metrics
	log         *slog.Logger
	profiles    atomic.Pointer[profileSet]
	variants    *variantCache
	resolved    *lru.Cache[paramKey, *resolution] // nil when the token cache is off
	flight      singleflight.Group
	slots       *semaphore.Weighted
	tokenPrefix string // TokenParam + "=", or "" when the name needs escaping

	// Header values built once: every response shares them (net/http
	// never modifies a header's value slice).
	resultKey    string     // canonical form of Config.ResultHeader
	resultValues [][]string // indexed by token.Result
	publicCache  []string   // Cache-Control of public files
}

var (
	nosniff = []string{"nosniff"}
	noStore = []string{"no-store"}
	textUTF = []string{"text/plain; charset=utf-8"}
)

var _ http.Handler = (*Handler)(nil)

type protection struct {
	Protection
	verifier *verify.Verifier
	results  []prometheus.Counter // indexed by token.Result
	logins   *loginCache          // KindBasic: credentials that passed bcrypt
}

// loginCache remembers credentials that passed bcrypt, so a browser that
// sends them with every image does not cost a bcrypt comparison (tens of
// milliseconds) per request. Entries are keyed by an HMAC of user and
// password under a key made at start-up, so the cache holds no password
// and nothing that could be checked offline. Failures are never cached.
type loginCache struct {
	key [32]byte
	ok  *lru.Cache[[32]byte, int] // login index
}

const loginCacheSize = 1024

func newLoginCache() *loginCache {
	c := &loginCache{}
	rand.Read(c.key[:])
	c.ok, _ = lru.New[[32]byte, int](loginCacheSize)
	return c
}

func (c *loginCache) id(user, pass string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pass))
	var id [32]byte
	m.Sum(id[:0])
	return id
}

type profileSet struct {
	profiles map[string]map[string]string
	def      string
}

// New validates cfg, fills its defaults and returns a Handler. Errors name
// the Config field at fault and never contain a secret.
func New(cfg Config) (*Handler, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(cfg.Protections))
	for _, p := range cfg.Protections {
		names = append(names, p.Name)
	}
	m, err := newMetrics(cfg.Registerer, names)
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:         cfg,
		metrics:     m,
		log:         cfg.Logger,
		slots:       semaphore.NewWeighted(int64(cfg.Limits.MaxConcurrent)),
		resultKey:   textproto.CanonicalMIMEHeaderKey(cfg.ResultHeader),
		publicCache: []string{"public, max-age=" + strconv.Itoa(int(cfg.PublicMaxAge/time.Second))},
	}
	for _, r := range token.Results() {
		h.resultValues = append(h.resultValues, []string{r.String()})
	}
	if url.QueryEscape(cfg.TokenParam) == cfg.TokenParam {
		h.tokenPrefix = cfg.TokenParam + "="
	}
	h.public = h.newProtection(Protection{Name: NoProtection})
	for i, p := range cfg.Protections {
		hp := h.newProtection(p)
		if p.Kind == KindBasic {
			hp.logins = newLoginCache()
		}
		if p.Kind == KindJWT {
			hp.verifier, err = verify.New(verify.Config{
				Keys: p.Keys, Leeway: cfg.Leeway, Now: cfg.Now, CacheSize: cfg.TokenCacheSize,
			})
			if err != nil {
				return nil, fmt.Errorf("handler: Config.Protections[%d]: %w", i, err)
			}
			for _, k := range p.Keys {
				if k.Weak() {
					h.log.Warn("weak key: secret shorter than 32 bytes", "protection", p.Name, "key_id", k.ID)
				}
			}
		}
		h.protections = append(h.protections, hp)
	}
	slices.SortStableFunc(h.protections, func(a, b *protection) int { return len(b.Path) - len(a.Path) })
	h.profiles.Store(&profileSet{profiles: cfg.Profiles, def: cfg.DefaultProfile})
	if cfg.VariantCacheBytes > 0 {
		h.variants = newVariantCache(cfg.VariantCacheBytes)
	}
	if cfg.TokenCacheSize >= 0 {
		size := cfg.TokenCacheSize
		if size == 0 {
			size = verify.DefaultCacheSize
		}
		h.resolved, _ = lru.New[paramKey, *resolution](size)
	}
	return h, nil
}

func (h *Handler) newProtection(p Protection) *protection {
	hp := &protection{Protection: p, results: make([]prometheus.Counter, len(token.Results()))}
	for _, r := range token.Results() {
		hp.results[r] = h.metrics.auth.WithLabelValues(p.Name, r.String())
	}
	return hp
}

// SetProfiles replaces the profiles and the default profile, for a reload
// (keyhole serve does it on SIGHUP). Requests in flight finish with the set
// they started with. Every profile is validated first; on error nothing
// changes. Profiles named by strict-profile protections must remain.
func (h *Handler) SetProfiles(profiles map[string]map[string]string, def string) error {
	if err := checkProfiles(profiles, def, h.cfg.Limits); err != nil {
		return err
	}
	for _, p := range h.protections {
		if p.Kind == KindStrictProfile {
			if _, ok := profiles[p.Profile]; !ok {
				return errors.New("handler: profile " + p.Profile + " is used by a strict-profile protection")
			}
		}
	}
	h.profiles.Store(&profileSet{profiles: profiles, def: def})
	return nil
}

// exchange holds the per-request state, allocated once per request.
type exchange struct {
	w   statusWriter
	req request
	src file
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: statusWriter{ResponseWriter: w}}
	h.serve(&x.w, r, x)
	h.metrics.code(x.w.status())
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, x *exchange) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.refuse(w, h.public, token.ResultMethodNotAllowed)
		return
	}
	p, err := CleanPath(r.URL.Path, h.cfg.MaxPathBytes)
	if err != nil {
		h.refuse(w, h.public, token.ResultBadPath)
		return
	}
	prot := h.match(p)
	query, queryTok, queryErr := h.parseQuery(r.URL.RawQuery)
	res, claims := h.authorize(r, prot, p, queryTok)
	h.record(w, prot, res)
	if !res.Allowed() {
		if res == token.ResultCredentialsRequired || res == token.ResultCredentialsInvalid || res == token.ResultCredentialsExpired {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+prot.Realm+`", charset="UTF-8"`)
		}
		h.fail(w, res.Status(), res.String())
		return
	}
	if queryErr != nil {
		// A query string that does not parse is not guessed at.
		h.fail(w, http.StatusBadRequest, "bad query string")
		return
	}
	if !h.cfg.AllowDotFiles && hasDotSegment(p) {
		h.fail(w, http.StatusNotFound, "not found")
		return
	}
	x.req = request{path: p, prot: prot, claims: claims, query: query, rawQuery: r.URL.RawQuery}
	h.serveFile(w, r, &x.req, &x.src)
}

// match returns the protection with the longest Path prefixing p, or the
// public pseudo-protection.
func (h *Handler) match(p string) *protection {
	for _, prot := range h.protections {
		if strings.HasPrefix(p, prot.Path) {
			return prot
		}
	}
	return h.public
}

// parseQuery returns the query's values and the token parameter's value.
// A query that is only "<TokenParam>=<token>" (the usual signed URL of an
// original) is not parsed into url.Values: query is nil, as it is for an
// empty query.
func (h *Handler) parseQuery(raw string) (query url.Values, tok string, err error) {
	if raw == "" {
		return nil, "", nil
	}
	if h.tokenPrefix != "" {
		if v, ok := strings.CutPrefix(raw, h.tokenPrefix); ok && !strings.ContainsAny(v, "&;%+") {
			return nil, v, nil
		}
	}
	query, err = url.ParseQuery(raw)
	return query, query.Get(h.cfg.TokenParam), err
}

func (h *Handler) authorize(r *http.Request, prot *protection, p string, queryTok string) (token.Result, *token.Claims) {
	if prot == h.public {
		if h.cfg.DenyUnprotected {
			return token.ResultUnprotectedDenied, nil
		}
		return token.ResultPublic, nil
	}
	if !prot.referrerAllowed(r) {
		return token.ResultReferrerDenied, nil
	}
	switch prot.Kind {
	case KindBasic:
		return prot.checkBasic(r, h.cfg.Now()), nil
	case KindStrictProfile:
		return token.ResultOK, nil
	}
	tok := h.findToken(r, queryTok)
	if tok == "" {
		return token.ResultMissingToken, nil
	}
	claims, err := prot.verifier.Verify(tok, p)
	if err != nil {
		var res token.Result
		if !errors.As(err, &res) {
			res = token.ResultMalformedToken
		}
		h.log.Info("token refused", "protection", prot.Name, "result", res.String(), "token", tokenID(tok))
		return res, nil
	}
	return token.ResultOK, claims
}

func (h *Handler) findToken(r *http.Request, queryTok string) string {
	if queryTok != "" {
		return queryTok
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if h.cfg.TokenCookie != "" {
		if c, err := r.Cookie(h.cfg.TokenCookie); err == nil {
			return c.Value
		}
	}
	return ""
}

// tokenID identifies a token in logs without revealing it: the first 12 hex
// digits of its SHA-256.
func tokenID(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

func (p *protection) referrerAllowed(r *http.Request) bool {
	if p.Referrers == nil {
		return true
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return !p.Referrers.RequireReferer
	}
	u, err := url.Parse(ref)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, allowed := range p.Referrers.Hosts {
		if host == allowed || (strings.HasPrefix(allowed, ".") && (strings.HasSuffix(host, allowed) || host == allowed[1:])) {
			return true
		}
	}
	return false
}

// checkBasic compares credentials with bcrypt (once per distinct correct
// credential, see loginCache). A wrong user costs as much as a wrong
// password, so timing does not reveal which logins exist.
func (p *protection) checkBasic(r *http.Request, now time.Time) token.Result {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return token.ResultCredentialsRequired
	}
	id := p.logins.id(user, pass)
	match, cached := p.logins.ok.Get(id)
	if !cached {
		match = -1
		for i, l := range p.Logins {
			if l.User == user {
				match = i
			}
		}
		hash := dummyHash()
		if match >= 0 {
			hash = []byte(p.Logins[match].PasswordHash)
		}
		if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || match < 0 {
			return token.ResultCredentialsInvalid
		}
		p.logins.ok.Add(id, match)
	}
	if exp := p.Logins[match].Expires; !exp.IsZero() && now.After(exp) {
		return token.ResultCredentialsExpired
	}
	return token.ResultOK
}

// dummyHash is compared against when the user is unknown, to spend the same
// time as a real comparison. Its password is random and unknown.
var dummyHash = sync.OnceValue(func() []byte {
	var pw [16]byte
	rand.Read(pw[:])
	h, _ := bcrypt.GenerateFromPassword(pw[:], bcrypt.DefaultCost)
	return h
})

func (h *Handler) record(w http.ResponseWriter, prot *protection, res token.Result) {
	w.Header()[h.resultKey] = h.resultValues[res]
	prot.results[res].Inc()
}

func (h *Handler) refuse(w http.ResponseWriter, prot *protection, res token.Result) {
	h.record(w, prot, res)
	h.fail(w, res.Status(), res.String())
}

// fail writes a fixed plain-text error body. msg must never hold a secret,
// a file system path or Go error text.
func (h *Handler) fail(w http.ResponseWriter, status int, msg string) {
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Del("ETag")
	hdr.Del("Last-Modified")
	hdr.Del("Content-Disposition")
	hdr["Content-Type"] = textUTF
	hdr["X-Content-Type-Options"] = nosniff
	hdr["Cache-Control"] = noStore
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}
