package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
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
	rules := &signreq.Rules{Limits: transform.Limits(cfg.Limits), Watermarks: cfg.Watermarks, TokenParam: cfg.TokenParam}
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

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	cfgPath := fs.String("config", "", "YAML config `file`: verify the token with its keys")
	path := fs.String("path", "", "request `path` to check the audience against (default: the URL's path or the first aud)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("inspect takes one TOKEN or URL")
	}
	tok, urlPath := splitTokenArg(fs.Arg(0))
	if *path == "" {
		*path = urlPath
	}
	d, err := token.Decode(tok)
	if d == nil {
		return fmt.Errorf("cannot decode the token: %v", err)
	}
	now := time.Now()
	hdr, _ := json.Marshal(map[string]string{"alg": d.Header.Alg, "kid": d.Header.KeyID, "typ": d.Header.Typ})
	fmt.Fprintf(stdout, "header:  %s\n", hdr)
	fmt.Fprintf(stdout, "payload: %s\n", d.Payload)
	if err != nil {
		fmt.Fprintf(stdout, "claims:  invalid (%v)\n", err)
	} else {
		c := d.Claims
		fmt.Fprintf(stdout, "aud:     %s\n", strings.Join(c.Audience, ", "))
		fmt.Fprintf(stdout, "exp:     %s\n", when(c.ExpiresAt, now))
		if !c.IssuedAt.IsZero() {
			fmt.Fprintf(stdout, "iat:     %s\n", when(c.IssuedAt, now))
		}
		if !c.NotBefore.IsZero() {
			fmt.Fprintf(stdout, "nbf:     %s\n", when(c.NotBefore, now))
		}
		if *path == "" && len(c.Audience) > 0 {
			*path = c.Audience[0]
		}
	}
	if *cfgPath == "" {
		return nil
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "path:    %s\n", *path)
	fmt.Fprintf(stdout, "result:  %s\n", inspectResult(cfg, tok, *path))
	return nil
}

// inspectResult verifies tok as the server would for a request of path.
func inspectResult(cfg *fileConfig, tok, path string) string {
	p, err := token.CleanPath(path, token.DefaultMaxPathBytes)
	if err != nil {
		return token.ResultBadPath.String()
	}
	var best *protectionConfig
	for i, pc := range cfg.Protections {
		if strings.HasPrefix(p, pc.Path) && (best == nil || len(pc.Path) > len(best.Path)) {
			best = &cfg.Protections[i]
		}
	}
	switch {
	case best == nil:
		return token.ResultPublic.String() + " (no protection covers " + p + ")"
	case best.Type != "" && best.Type != handler.KindJWT:
		return "the protection of " + p + " is " + best.Type + ", not jwt"
	}
	keys, err := best.keys()
	if err != nil {
		return "config: " + err.Error()
	}
	v, err := verify.New(verify.Config{Keys: keys, Leeway: cfg.Leeway, CacheSize: -1})
	if err != nil {
		return "config: " + err.Error()
	}
	if _, err := v.Verify(tok, p); err != nil {
		var r token.Result
		if errors.As(err, &r) {
			return r.String()
		}
		return token.ResultMalformedToken.String()
	}
	return token.ResultOK.String()
}

// splitTokenArg accepts a bare token or a URL carrying jwt=.
func splitTokenArg(arg string) (tok, path string) {
	if !strings.Contains(arg, "?") {
		return arg, ""
	}
	u, err := url.Parse(arg)
	if err != nil {
		return arg, ""
	}
	return u.Query().Get("jwt"), u.Path
}

func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	if d < 0 {
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%d (%s, %s)", t.Unix(), t.UTC().Format(time.RFC3339), rel)
}
