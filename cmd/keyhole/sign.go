package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := token.GenerateSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s)
	return nil
}

func runSign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sign", stderr)
	cfgPath := fs.String("config", "", "YAML config `file` holding the key (required)")
	keyID := fs.String("key", "", "key `id` to sign with (required)")
	path := fs.String("path", "", "file `path`, e.g. /private/a.jpg (required)")
	aud := fs.String("aud", "", "audience `prefix` (default: the path)")
	expires := fs.Duration("expires", 5*time.Minute, "token lifetime")
	argsJSON := fs.String("args", "", "secure parameters as a JSON `object`, e.g. '{\"w\":300}'")
	query := fs.String("query", "", "insecure parameters as a query `string`, e.g. 'w=300&h=200'")
	base := fs.String("base", "", "base `URL` (default: http:// + the config's addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cfgPath == "" || *keyID == "" || *path == "" {
		fs.Usage()
		return errors.New("sign needs -config, -key and -path")
	}
	if *expires <= 0 {
		return errors.New("-expires must be positive")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	key, _, err := cfg.findKey(*keyID)
	if err != nil {
		return err
	}
	now := time.Now()
	req := &signreq.Request{Path: *path, IssuedAt: now, ExpiresAt: now.Add(*expires)}
	if !strings.HasPrefix(req.Path, "/") {
		req.Path = "/" + req.Path
	}
	if *aud != "" {
		req.Audience = []string{*aud}
	}
	if *argsJSON != "" {
		if err := json.Unmarshal([]byte(*argsJSON), &req.Args); err != nil || req.Args == nil {
			return errors.New("-args must be a JSON object")
		}
	}
	if req.Query, err = url.ParseQuery(*query); err != nil {
		return errors.New("-query is not a valid query string")
	}
	// The server's rules: the config's limits and watermark folders.
	rules := &signreq.Rules{Limits: cfg.Limits.engine(), Watermarks: cfg.Watermarks, TokenParam: cfg.TokenParam}
	c, q, err := signreq.Prepare(req, rules)
	if err != nil {
		return signError(err)
	}
	if *base == "" {
		addr := cfg.Addr
		if addr == "" {
			addr = defaultAddr
		}
		*base = "http://" + addr
	}
	s, err := token.NewSigner(key)
	if err != nil {
		return err
	}
	u, err := s.SignURL(req.Path, c, token.URLOptions{BaseURL: *base, Query: q, Param: cfg.TokenParam})
	if errors.Is(err, token.ErrTooLong) {
		return errors.New("-args are too large: the token would be longer than 8192 bytes, the longest the server accepts")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, u)
	return nil
}

// signError names the flag a signreq.Error is about.
func signError(err error) error {
	var e *signreq.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Field {
	case signreq.FieldPath:
		return errors.New("-path: " + e.Reason)
	case signreq.FieldAudience:
		return errors.New("-aud: " + e.Reason)
	case signreq.FieldExpiry, signreq.FieldNotBefore:
		return errors.New("-expires: " + e.Reason)
	}
	var msgs []string
	if len(e.Args) > 0 {
		msgs = append(msgs, "-args: invalid parameters:\n"+(&transform.Errors{List: e.Args}).Error())
	}
	if len(e.Query) > 0 {
		msgs = append(msgs, "-query: invalid parameters:\n"+(&transform.Errors{List: e.Query}).Error())
	}
	return errors.New(strings.Join(msgs, "\n"))
}
