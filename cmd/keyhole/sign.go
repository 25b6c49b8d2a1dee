package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/keyhole-dev/keyhole/internal/signreq"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	s, err := token.GenerateSecret()
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, s)
	return nil
}

// defaultMaxExpires is the cap on -expires without a config's
// signing.max_expires_in: the cap of every signer (the signing endpoint,
// the WebAssembly signer).
const defaultMaxExpires = signreq.DefaultMaxLifetime

func runSign(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sign", stderr)
	cfgPath := fs.String("config", "", "YAML config `file` holding the key (or give -secret-env)")
	keyID := fs.String("key", "", "key `id` to sign with (required with -config; with -secret-env the token's kid, default none)")
	secretEnv := fs.String("secret-env", "", "sign with the secret in this environment `variable` (its bytes, as a key's secret:), without a config")
	secretB64Env := fs.String("secret-base64-env", "", "sign with the base64 secret in this environment `variable` (as a key's secret_base64:), without a config")
	path := fs.String("path", "", "absolute file `path`, e.g. /private/a.jpg (required)")
	aud := fs.String("aud", "", "audience `prefix` (default: the path)")
	expires := fs.Duration("expires", 5*time.Minute, "token lifetime, 1s up to the config's signing.max_expires_in (720h without one)")
	argsJSON := fs.String("args", "", "secure parameters as a JSON `object`, e.g. '{\"w\":300}'")
	query := fs.String("query", "", "insecure parameters as a query `string`, e.g. 'w=300&h=200'")
	base := fs.String("base", "", "base `URL` (default: http:// + the config's addr, else "+defaultAddr+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("sign takes no arguments; give the file with -path")
	}
	fromEnv := *secretEnv != "" || *secretB64Env != ""
	switch {
	case *secretEnv != "" && *secretB64Env != "":
		return usageError("give -secret-env or -secret-base64-env, not both")
	case fromEnv && *cfgPath != "":
		return usageError("give -config or -secret-env/-secret-base64-env, not both")
	case !fromEnv && (*cfgPath == "" || *keyID == ""):
		return usageError("sign needs -config FILE and -key ID, or -secret-env NAME (see keyhole sign -h)")
	case *path == "":
		return usageError("sign needs -path (see keyhole sign -h)")
	case !strings.HasPrefix(*path, "/"):
		return usageError(fmt.Sprintf("-path %q is relative: give the path from the root the server serves, e.g. /%s", *path, *path))
	}

	var (
		key     token.Key
		rules   = &signreq.Rules{MaxLifetime: defaultMaxExpires}
		param   string
		addr    = defaultAddr
		capName = "the default of every Keyhole signer"
	)
	if fromEnv {
		k, err := envKey(*keyID, *secretEnv, *secretB64Env)
		if err != nil {
			return err
		}
		key = k
	} else {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		if key, _, err = cfg.findKey(*keyID); err != nil {
			return err
		}
		// The server's rules: the config's limits and watermark folders,
		// and the signing endpoint's cap on the lifetime.
		rules = &signreq.Rules{Limits: cfg.Limits.engine(), Watermarks: cfg.Watermarks, TokenParam: cfg.TokenParam, MaxLifetime: defaultMaxExpires}
		if cfg.Signing != nil && cfg.Signing.MaxExpiresIn > 0 {
			rules.MaxLifetime = cfg.Signing.MaxExpiresIn
			capName = "signing.max_expires_in"
		}
		param = cfg.TokenParam
		if cfg.Addr != "" {
			addr = cfg.Addr
		}
	}
	now := time.Now()
	if key.Revokes(now) {
		return fmt.Errorf("key %q has not_before %s, after now: the server refuses every token it signs now (revoked token); sign with another key",
			key.ID, key.NotBefore.UTC().Format(time.RFC3339))
	}
	exp, ok := signreq.ExpiryAfter(now, expires.Seconds(), rules.MaxLifetime)
	if !ok {
		return fmt.Errorf("-expires must be 1s..%v (%s)", rules.MaxLifetime, capName)
	}
	req := &signreq.Request{Path: *path, IssuedAt: now, ExpiresAt: exp}
	if *aud != "" {
		req.Audience = []string{*aud}
	}
	if *argsJSON != "" {
		if err := json.Unmarshal([]byte(*argsJSON), &req.Args); err != nil || req.Args == nil {
			return errors.New("-args must be a JSON object")
		}
	}
	var err error
	if req.Query, err = url.ParseQuery(*query); err != nil {
		return errors.New("-query is not a valid query string")
	}
	c, q, err := signreq.Prepare(req, rules)
	if err != nil {
		return signError(err)
	}
	if *base == "" {
		*base = "http://" + addr
	}
	s, err := token.NewSigner(key)
	if err != nil {
		return err
	}
	if key.Weak() {
		fmt.Fprintf(stderr, "keyhole: warning: the secret is %d bytes; use at least %d (keyhole keygen)\n", len(key.Secret), token.WeakSecretBytes)
	}
	u, err := s.SignURL(req.Path, c, token.URLOptions{BaseURL: *base, Query: q, Param: param})
	if errors.Is(err, token.ErrTooLong) {
		return errors.New("-args are too large: the token would be longer than 8192 bytes, the longest the server accepts")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, u)
	return nil
}

// envKey reads a signing key from the environment variable named by
// secretEnv (its bytes) or secretB64Env (base64). Errors name the
// variable, never its value.
func envKey(id, secretEnv, secretB64Env string) (token.Key, error) {
	name, flagName := secretEnv, "-secret-env"
	if secretB64Env != "" {
		name, flagName = secretB64Env, "-secret-base64-env"
	}
	v := os.Getenv(name)
	if v == "" {
		return token.Key{}, fmt.Errorf("%s: the environment variable %s is not set or empty", flagName, name)
	}
	key := token.KeyFromString(id, v)
	if secretB64Env != "" {
		k, err := token.KeyFromBase64(id, v)
		if err != nil {
			return token.Key{}, fmt.Errorf("%s: %s is not valid base64 (standard or URL alphabet)", flagName, name)
		}
		key = k
	}
	if err := key.Validate(); err != nil {
		return token.Key{}, fmt.Errorf("-key: %w", err)
	}
	return key, nil
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
