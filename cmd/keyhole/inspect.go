package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

const inspectHelp = `Usage: keyhole inspect [-config FILE] [-path PATH] TOKEN|URL

Decodes a token (or the jwt parameter of a signed URL) and prints its
header as sent, its payload and its times. Given a config, verifies it as
the server would for PATH (default: the URL's path, else the token's
audience) and prints the result. Text from the token is printed with
control characters escaped, so a token cannot send terminal escapes.

Exit status: 0 when the server would serve the request, 1 when it would
refuse it (or, without a config, when the token does not decode).

Example:
  keyhole inspect -config keyhole.yaml 'https://img.example.com/private/photo.jpg?w=300&jwt=eyJ...'

Flags:
`

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	cfgPath := fs.String("config", "", "YAML config `file`: verify the token with its keys")
	path := fs.String("path", "", "request `path` to check the audience against (default: the URL's path or the first aud)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("inspect takes one TOKEN or URL")
	}
	var cfg *fileConfig
	if *cfgPath != "" {
		var err error
		if cfg, err = loadConfig(*cfgPath); err != nil {
			return err
		}
	}
	param := "jwt"
	if cfg != nil && cfg.TokenParam != "" {
		param = cfg.TokenParam
	}
	tok, urlPath := splitTokenArg(fs.Arg(0), param)
	if *path == "" {
		*path = urlPath
	}
	hseg, _, _, err := token.Split(tok)
	if err != nil {
		fmt.Fprintf(stdout, "result:  %s (not a compact JWS token)\n", token.ResultMalformedToken)
		return silentError{}
	}
	rawHeader, _ := base64.RawURLEncoding.DecodeString(hseg)
	fmt.Fprintf(stdout, "header:  %s\n", printable(string(rawHeader)))
	d, err := token.Decode(tok)
	if d == nil {
		fmt.Fprintf(stdout, "result:  %s\n", resultText(err))
		return silentError{}
	}
	now := time.Now()
	fmt.Fprintf(stdout, "payload: %s\n", printable(string(d.Payload)))
	folder := ""
	if err != nil {
		fmt.Fprintf(stdout, "claims:  invalid (%s)\n", printable(err.Error()))
		if cfg == nil {
			return silentError{}
		}
	} else {
		c := d.Claims
		fmt.Fprintf(stdout, "aud:     %s\n", printable(strings.Join(c.Audience, ", ")))
		fmt.Fprintf(stdout, "exp:     %s\n", when(c.ExpiresAt, now))
		if !c.IssuedAt.IsZero() {
			fmt.Fprintf(stdout, "iat:     %s\n", when(c.IssuedAt, now))
		}
		if !c.NotBefore.IsZero() {
			fmt.Fprintf(stdout, "nbf:     %s\n", when(c.NotBefore, now))
		}
		if *path == "" && len(c.Audience) > 0 {
			*path = c.Audience[0]
			if strings.HasSuffix(*path, "/") {
				folder = *path
			}
		}
	}
	if cfg == nil {
		return nil
	}
	if folder != "" {
		fmt.Fprintf(stdout, "path:    any file under %s (the audience is a folder)\n", printable(folder))
	} else {
		fmt.Fprintf(stdout, "path:    %s\n", printable(*path))
	}
	res, detail := inspectResult(cfg, tok, *path, folder != "")
	fmt.Fprintf(stdout, "result:  %s%s\n", res, detail)
	if res != token.ResultOK && res != token.ResultPublic {
		return silentError{}
	}
	return nil
}

// inspectResult verifies tok as the server would for a request of path,
// or, when folder is set, of any file under the folder path.
func inspectResult(cfg *fileConfig, tok, path string, folder bool) (token.Result, string) {
	p := path
	if folder {
		if pathrule.CheckFolder(p, token.DefaultMaxPathBytes) != "" {
			return token.ResultBadPath, ""
		}
	} else {
		var err error
		if p, err = token.CleanPath(path, token.DefaultMaxPathBytes); err != nil {
			return token.ResultBadPath, ""
		}
	}
	var best *protectionConfig
	for i, pc := range cfg.Protections {
		if strings.HasPrefix(p, pc.Path) && (best == nil || len(pc.Path) > len(best.Path)) {
			best = &cfg.Protections[i]
		}
	}
	switch {
	case best == nil && cfg.DenyUnprotected:
		return token.ResultUnprotectedDenied, " (no protection covers " + printable(p) + ")"
	case best == nil:
		return token.ResultPublic, " (no protection covers " + printable(p) + ")"
	case best.Type == handler.KindStrictProfile:
		return token.ResultOK, " (a strict-profile protection: no token needed)"
	case best.Type == handler.KindBasic:
		return token.ResultCredentialsRequired, " (a basic protection: tokens do not open it)"
	}
	keys, _ := best.keys()
	v, err := verify.New(verify.Config{Keys: keys, Leeway: cfg.Leeway, CacheSize: -1})
	if err != nil {
		return token.ResultMalformedToken, " (config: " + err.Error() + ")"
	}
	if _, err := v.Verify(tok, p); err != nil {
		return resultText(err), ""
	}
	return token.ResultOK, ""
}

func resultText(err error) token.Result {
	var r token.Result
	if errors.As(err, &r) {
		return r
	}
	return token.ResultMalformedToken
}

// splitTokenArg accepts a bare token or a URL carrying the token
// parameter.
func splitTokenArg(arg, param string) (tok, path string) {
	if !strings.Contains(arg, "?") {
		return arg, ""
	}
	u, err := url.Parse(arg)
	if err != nil {
		return arg, ""
	}
	return u.Query().Get(param), u.Path
}

// printable escapes what a terminal would interpret — control characters
// (C0, DEL, C1), bidirectional overrides and other invisible format
// characters, and invalid UTF-8 — as \uXXXX or \xXX, so text from a token
// is shown, never executed.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	rel := "in " + d.String()
	if d < 0 {
		rel = (-d).String() + " ago"
	}
	return fmt.Sprintf("%d (%s, %s)", t.Unix(), t.UTC().Format(time.RFC3339), rel)
}
