package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/source"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// fileConfig is the YAML configuration of keyhole serve. Every error names
// the YAML key path and line at fault (protections[1].type at line 12:
// ...), in the file's own vocabulary.
type fileConfig struct {
	Addr              string                       `yaml:"addr"`
	Root              string                       `yaml:"root"`
	VariantStore      string                       `yaml:"variant_store"`
	MetricsPath       *string                      `yaml:"metrics_path"`
	MetricsAddr       string                       `yaml:"metrics_addr"`
	HealthPath        *string                      `yaml:"health_path"`
	ReadyPath         *string                      `yaml:"ready_path"`
	LogFormat         string                       `yaml:"log_format"`
	LogLevel          string                       `yaml:"log_level"`
	AccessLog         bool                         `yaml:"access_log"`
	TokenParam        string                       `yaml:"token_param"`
	TokenCookie       string                       `yaml:"token_cookie"`
	Leeway            time.Duration                `yaml:"leeway"`
	ResultHeader      string                       `yaml:"result_header"`
	AllowDotFiles     bool                         `yaml:"allow_dot_files"`
	DenyUnprotected   bool                         `yaml:"deny_unprotected"`
	PublicMaxAge      time.Duration                `yaml:"public_max_age"`
	VariantCacheBytes int64                        `yaml:"variant_cache_bytes"`
	OpenFiles         int                          `yaml:"open_files"`
	LogLinesPerSecond int                          `yaml:"log_lines_per_second"`
	DefaultProfile    string                       `yaml:"default_profile"`
	Profiles          map[string]map[string]string `yaml:"profiles"`
	Watermarks        []string                     `yaml:"watermarks"`
	Limits            limitsConfig                 `yaml:"limits"`
	Protections       []protectionConfig           `yaml:"protections"`
	Signing           *signingConfig               `yaml:"signing"`
	Tier              tierConfig                   `yaml:"tier"`

	name  string    // the file's name as given
	lines lineIndex // YAML key path -> line
}

// signingConfig turns on the signing endpoint; absent = off.
type signingConfig struct {
	Path           string        `yaml:"path"`
	AdminToken     string        `yaml:"admin_token"`
	AdminTokenEnv  string        `yaml:"admin_token_env"`
	AdminTokenFile string        `yaml:"admin_token_file"`
	BaseURL        string        `yaml:"base_url"`
	MaxExpiresIn   time.Duration `yaml:"max_expires_in"`

	adminToken string // resolved from one of the three sources
}

// tierConfig is the local tier in front of a bucket root and a bucket
// variant store (source.TierConfig); a directory root has none.
type tierConfig struct {
	MemoryBytes    int64         `yaml:"memory_bytes"`
	Dir            string        `yaml:"dir"`
	DiskBytes      int64         `yaml:"disk_bytes"`
	MaxObjectBytes int64         `yaml:"max_object_bytes"`
	FreshFor       time.Duration `yaml:"fresh_for"`
	StaleIfError   time.Duration `yaml:"stale_if_error"`
}

type limitsConfig struct {
	MaxSourcePixels int           `yaml:"max_source_pixels"`
	MaxOutputWidth  int           `yaml:"max_output_width"`
	MaxOutputHeight int           `yaml:"max_output_height"`
	MaxSourceBytes  int64         `yaml:"max_source_bytes"`
	MaxTextRunes    int           `yaml:"max_text_runes"`
	MaxWork         int64         `yaml:"max_work"`
	Timeout         time.Duration `yaml:"timeout"`
	MaxConcurrent   int           `yaml:"max_concurrent"`
	QueueTimeout    time.Duration `yaml:"queue_timeout"`
	AllowVector     bool          `yaml:"allow_vector"`
}

// engine returns the limits the engine owns (transform.Limits);
// max_concurrent and queue_timeout are the handler's
// (handler.Config.MaxConcurrent and QueueTimeout).
func (l limitsConfig) engine() transform.Limits {
	return transform.Limits{
		MaxSourcePixels: l.MaxSourcePixels, MaxOutputWidth: l.MaxOutputWidth, MaxOutputHeight: l.MaxOutputHeight,
		MaxSourceBytes: l.MaxSourceBytes, MaxTextRunes: l.MaxTextRunes, MaxWork: l.MaxWork,
		Timeout: l.Timeout, AllowVector: l.AllowVector,
	}
}

type protectionConfig struct {
	Name      string          `yaml:"name"`
	Path      string          `yaml:"path"`
	Type      string          `yaml:"type"`
	Audience  string          `yaml:"audience"` // prefix (default) or exact: handler.Protection.Audience
	Keys      []keyConfig     `yaml:"keys"`
	Logins    []loginConfig   `yaml:"logins"`
	Realm     string          `yaml:"realm"`
	Profile   string          `yaml:"profile"`
	Lock      bool            `yaml:"lock"`
	Referrers *referrerConfig `yaml:"referrers"`
}

// keyConfig is one HMAC key. Exactly one of its four secret sources is
// set; the value is resolved when the file is loaded, so a key read from
// the environment or a file works in every command.
type keyConfig struct {
	ID           string `yaml:"id"`
	Secret       string `yaml:"secret"`
	SecretBase64 string `yaml:"secret_base64"`
	SecretEnv    string `yaml:"secret_env"`
	SecretFile   string `yaml:"secret_file"`
	// NotBefore revokes the key's tokens issued ("iat") before it, and
	// those without iat: token.Key.NotBefore.
	NotBefore configTime `yaml:"not_before"`

	key token.Key // resolved
}

// configTime is a time.Time whose decoding error carries the line, so that
// yamlErrors names the key (yaml.v3 reports a time.Time that does not
// parse without one).
type configTime struct{ time.Time }

// UnmarshalYAML decodes an RFC 3339 time (or any YAML timestamp).
func (t *configTime) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: must be %s, not a %s", n.Line, typeMeanings["time.Time"], map[yaml.Kind]string{yaml.MappingNode: "mapping", yaml.SequenceNode: "list"}[n.Kind])}}
	}
	if err := n.Decode(&t.Time); err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: cannot unmarshal !!str `%s` into time.Time", n.Line, n.Value)}}
	}
	return nil
}

type loginConfig struct {
	User         string     `yaml:"user"`
	PasswordHash string     `yaml:"password_hash"`
	Expires      configTime `yaml:"expires"`
}

type referrerConfig struct {
	Hosts          []string `yaml:"hosts"`
	RequireReferer bool     `yaml:"require_referer"`
}

// configError is one problem of a config file, in the file's vocabulary.
type configError struct {
	path string // YAML key path, e.g. protections[1].type; "" for the file
	line int    // 0 when unknown
	msg  string
}

func (e configError) Error() string {
	switch {
	case e.path != "" && e.line > 0:
		return fmt.Sprintf("%s at line %d: %s", e.path, e.line, e.msg)
	case e.path != "":
		return e.path + ": " + e.msg
	case e.line > 0:
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return e.msg
}

// configErrors are every problem found in one file, one per line.
type configErrors struct {
	name string
	list []configError
}

func (e *configErrors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config %s:", e.name)
	if len(e.list) == 1 {
		return b.String() + " " + e.list[0].Error()
	}
	for _, c := range e.list {
		b.WriteString("\n  " + c.Error())
	}
	return b.String()
}

func (c *fileConfig) fail(errs *[]configError, path, format string, args ...any) {
	*errs = append(*errs, configError{path: path, line: c.lines.line(path), msg: fmt.Sprintf(format, args...)})
}

// lineIndex maps YAML key paths (a.b[2].c) to the line of their key or
// item, and lines back to the deepest path written on them.
type lineIndex struct {
	byPath map[string]int
	byLine map[int]string
}

func (x lineIndex) line(path string) int {
	for path != "" {
		if l, ok := x.byPath[path]; ok {
			return l
		}
		// An unset field: point at its parent.
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

func indexNode(n *yaml.Node) lineIndex {
	x := lineIndex{byPath: map[string]int{}, byLine: map[int]string{}}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				x.byPath[p] = k.Line
				x.byLine[k.Line] = p
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				x.byPath[p] = c.Line
				if _, ok := x.byLine[c.Line]; !ok {
					x.byLine[c.Line] = p
				}
				walk(c, p)
			}
		}
	}
	walk(n, "")
	return x
}

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	yamlUnknown  = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	yamlTypeErr  = regexp.MustCompile("^cannot unmarshal !!(\\w+) `?(.*?)`? into (\\S+)$")
	typeMeanings = map[string]string{
		"int": "an integer", "int64": "an integer", "bool": "true or false",
		"time.Duration": "a duration such as 30s or 5m", "time.Time": "a time such as 2027-01-01T00:00:00Z",
		"string": "a string",
	}
)

// yamlErrors rewrites the decoder's errors in the file's vocabulary: the
// key path, the line, and what the value should have been.
func yamlErrors(err error, x lineIndex) []configError {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var out []configError
	for _, m := range msgs {
		e := configError{msg: m}
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			e.line, _ = strconv.Atoi(sm[1])
			e.msg = sm[2]
			e.path = x.byLine[e.line]
		}
		if sm := yamlUnknown.FindStringSubmatch(e.msg); sm != nil {
			e.msg = "unknown key " + strconv.Quote(sm[1])
		} else if sm := yamlTypeErr.FindStringSubmatch(e.msg); sm != nil {
			want := typeMeanings[sm[3]]
			switch {
			case want == "" && strings.HasPrefix(sm[3], "map"):
				want = "a mapping"
			case want == "" && strings.HasPrefix(sm[3], "[]"):
				want = "a list"
			case want == "":
				want = "a mapping"
			}
			if sm[1] == "map" || sm[1] == "seq" {
				e.msg = "must be " + want + ", not a " + map[string]string{"map": "mapping", "seq": "list"}[sm[1]]
			} else {
				e.msg = fmt.Sprintf("%q is not %s", sm[2], want)
			}
		}
		out = append(out, e)
	}
	return out
}

// loadConfig reads, decodes and checks a config file, and resolves its
// secrets (secret_env, secret_file). Relative root and secret_file paths
// are relative to the config file's folder. Errors carry the YAML key path
// and line, and the cause (an OS error, a path) for the operator; they
// never hold a secret's value.
func loadConfig(name string) (*fileConfig, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read config %s: %w", name, causeOf(err))
	}
	return parseConfig(name, data)
}

func parseConfig(name string, data []byte) (*fileConfig, error) {
	c := &fileConfig{name: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &configErrors{name: name, list: yamlErrors(err, lineIndex{})}
	}
	c.lines = indexNode(&doc)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, &configErrors{name: name, list: yamlErrors(err, c.lines)}
	}
	var errs []configError
	c.check(&errs)
	if len(errs) > 0 {
		return nil, &configErrors{name: name, list: errs}
	}
	return c, nil
}

// check validates the fields the handler cannot see in YAML terms and
// resolves the secrets. The handler's own rules run after, in
// handlerConfig and newHandler, and are translated by handlerError.
func (c *fileConfig) check(errs *[]configError) {
	dir := filepath.Dir(c.name)
	if c.Root == "" {
		c.fail(errs, "root", "is required: the directory to serve")
	} else if !isBucketURL(c.Root) && !filepath.IsAbs(c.Root) {
		c.Root = filepath.Join(dir, c.Root)
	}
	for _, f := range []struct {
		key string
		v   *string
	}{{"metrics_path", c.MetricsPath}, {"health_path", c.HealthPath}, {"ready_path", c.ReadyPath}} {
		if f.v != nil && *f.v != "" && !strings.HasPrefix(*f.v, "/") {
			c.fail(errs, f.key, "%q must start with / (or be \"\" to turn it off)", *f.v)
		}
	}
	if _, set := c.lines.byPath["token_param"]; set && c.TokenParam == "" {
		c.fail(errs, "token_param", "must not be empty (leave it out for the default, jwt)")
	}
	if c.Leeway < 0 {
		c.fail(errs, "leeway", "must not be negative (0 allows no clock skew)")
	}
	if c.PublicMaxAge < 0 {
		c.fail(errs, "public_max_age", "must not be negative")
	}
	if c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json" {
		c.fail(errs, "log_format", "unknown format %q (text, json)", c.LogFormat)
	}
	if c.LogLevel != "" {
		if _, err := parseLevel(c.LogLevel); err != nil {
			c.fail(errs, "log_level", "%v", err)
		}
	}
	kinds := []string{handler.KindJWT, handler.KindBasic, handler.KindStrictProfile}
	for i := range c.Protections {
		p := &c.Protections[i]
		at := fmt.Sprintf("protections[%d]", i)
		if msg := protectionPathProblem(p.Path); msg != "" {
			c.fail(errs, at+".path", "%s", msg)
		}
		if p.Type != "" && !slices.Contains(kinds, p.Type) {
			c.fail(errs, at+".type", "unknown type %q (%s)", p.Type, strings.Join(kinds, ", "))
		}
		for j := range p.Keys {
			c.resolveKey(errs, fmt.Sprintf("%s.keys[%d]", at, j), &p.Keys[j], dir)
		}
	}
	if s := c.Signing; s != nil {
		s.adminToken, _ = c.secret(errs, "signing", dir, "admin_token", s.AdminToken, s.AdminTokenEnv, s.AdminTokenFile)
	}
	c.checkTier(errs, dir)
	if msg := storeOverlap(c.Root, c.VariantStore); msg != "" {
		c.fail(errs, "variant_store", "%s", msg)
	}
}

// checkTier checks the tier's keys; a disk directory must exist and take
// a write.
func (c *fileConfig) checkTier(errs *[]configError, dir string) {
	t := &c.Tier
	for _, f := range []struct {
		key string
		bad bool
	}{
		{"tier.disk_bytes", t.DiskBytes < 0},
		{"tier.max_object_bytes", t.MaxObjectBytes < 0},
		{"tier.fresh_for", t.FreshFor < 0},
		{"tier.stale_if_error", t.StaleIfError < 0},
	} {
		if f.bad {
			c.fail(errs, f.key, "must not be negative")
		}
	}
	if t.DiskBytes > 0 && t.Dir == "" {
		c.fail(errs, "tier.disk_bytes", "is set without tier.dir")
	}
	if t.Dir == "" {
		if t.MemoryBytes < 0 && c.usesTier() {
			c.fail(errs, "tier.memory_bytes", "is negative (no memory tier) and there is no tier.dir: leave tier out, or give a size")
		}
		return
	}
	if !filepath.IsAbs(t.Dir) {
		t.Dir = filepath.Join(dir, t.Dir)
	}
	if err := source.CheckTierDir(t.Dir); err != nil {
		c.fail(errs, "tier.dir", "%s %s", t.Dir, err)
	}
}

// usesTier reports whether anything reads a bucket through the tier.
func (c *fileConfig) usesTier() bool {
	return isRemoteURL(c.Root) || isRemoteURL(c.VariantStore)
}

// protectionPathProblem returns why a protection path can only break
// things, or "".
func protectionPathProblem(p string) string {
	switch {
	case p == "":
		return "is required, e.g. /private/"
	case !strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q must start with /", p)
	case strings.Contains(p, "//"):
		return fmt.Sprintf("%q has an empty segment (//); no request path can match it", p)
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return fmt.Sprintf("%q has a %q segment; no request path can match it", p, seg)
		}
	}
	return ""
}

// resolveKey turns one keys[] entry into a token key.
func (c *fileConfig) resolveKey(errs *[]configError, at string, k *keyConfig, dir string) {
	if k.SecretBase64 != "" && (k.Secret != "" || k.SecretEnv != "" || k.SecretFile != "") {
		c.fail(errs, at, "set one of secret, secret_base64, secret_env and secret_file, not several")
		return
	}
	if k.SecretBase64 != "" {
		if hasVariable(k.SecretBase64) {
			c.fail(errs, at+".secret_base64", "looks like a variable, which keyhole does not expand: use secret_env: NAME or secret_file: PATH")
			return
		}
		key, err := token.KeyFromBase64(k.ID, k.SecretBase64)
		if err != nil {
			c.fail(errs, at+".secret_base64", "not valid base64 (standard or URL alphabet)")
			return
		}
		k.key = key
		k.key.NotBefore = k.NotBefore.Time
		return
	}
	v, ok := c.secret(errs, at, dir, "secret", k.Secret, k.SecretEnv, k.SecretFile)
	if ok {
		k.key = token.KeyFromString(k.ID, v)
		k.key.NotBefore = k.NotBefore.Time
	}
}

// secret resolves exactly one of a literal (the YAML key base), an
// environment variable (base_env) and a file (base_file: its content, one
// trailing newline removed; relative to the config's folder). Errors name
// the variable or file, never the value.
func (c *fileConfig) secret(errs *[]configError, at, dir, base, lit, env, file string) (string, bool) {
	set := 0
	for _, v := range []string{lit, env, file} {
		if v != "" {
			set++
		}
	}
	names := base + ", " + base + "_env and " + base + "_file"
	switch {
	case set > 1:
		c.fail(errs, at, "set one of %s, not several", names)
	case lit != "":
		if hasVariable(lit) {
			c.fail(errs, at+"."+base, "looks like a variable, which keyhole does not expand: use %s_env: NAME or %s_file: PATH", base, base)
			break
		}
		return lit, true
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			c.fail(errs, at+"."+base+"_env", "the environment variable %s is not set or empty", env)
			break
		}
		return v, true
	case file != "":
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			c.fail(errs, at+"."+base+"_file", "cannot read %s: %v", p, causeOf(err))
			break
		}
		v := strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
		if v == "" {
			c.fail(errs, at+"."+base+"_file", "%s is empty", p)
			break
		}
		return v, true
	default:
		c.fail(errs, at, "one of %s is required", names)
	}
	return "", false
}

// hasVariable reports a value that looks like a shell variable someone
// expected keyhole to expand.
func hasVariable(v string) bool {
	return strings.Contains(v, "${") || (strings.HasPrefix(v, "$") && len(v) > 1 && !strings.HasPrefix(v, "$2"))
}

// causeOf returns the OS-level cause of a file error ("permission
// denied", "no such file or directory") without the operation and path
// that the message around it already names.
func causeOf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// keys returns a protection's resolved keys.
func (p protectionConfig) keys() ([]token.Key, error) {
	keys := make([]token.Key, 0, len(p.Keys))
	for _, k := range p.Keys {
		keys = append(keys, k.key)
	}
	return keys, nil
}

// handlerConfig converts the file config; Files, Engine, Registerer and
// Logger are the caller's.
func (c *fileConfig) handlerConfig() (handler.Config, error) {
	hc := handler.Config{
		TokenParam:        c.TokenParam,
		TokenCookie:       c.TokenCookie,
		Leeway:            c.Leeway,
		ResultHeader:      c.ResultHeader,
		AllowDotFiles:     c.AllowDotFiles,
		Watermarks:        c.Watermarks,
		DenyUnprotected:   c.DenyUnprotected,
		PublicMaxAge:      c.PublicMaxAge,
		VariantCacheBytes: c.VariantCacheBytes,
		OpenFiles:         c.OpenFiles,
		LogLinesPerSecond: c.LogLinesPerSecond,
		DefaultProfile:    c.DefaultProfile,
		Profiles:          c.Profiles,
		Limits:            c.Limits.engine(),
		MaxConcurrent:     c.Limits.MaxConcurrent,
		QueueTimeout:      c.Limits.QueueTimeout,
	}
	if c.Leeway == 0 && c.lines.byPath["leeway"] != 0 {
		hc.Leeway = -1 // "leeway: 0s" written: no skew (the handler's 0 means the default)
	}
	for _, p := range c.Protections {
		keys, _ := p.keys()
		hp := handler.Protection{
			Name: p.Name, Path: p.Path, Kind: handler.Kind(p.Type), Audience: handler.Audience(p.Audience), Keys: keys, Realm: p.Realm,
			Profile: p.Profile, Lock: p.Lock,
		}
		for _, l := range p.Logins {
			hp.Logins = append(hp.Logins, handler.Login{User: l.User, PasswordHash: l.PasswordHash, Expires: l.Expires.Time})
		}
		if p.Referrers != nil {
			hp.Referrers = &handler.Referrers{Hosts: p.Referrers.Hosts, RequireReferer: p.Referrers.RequireReferer}
		}
		hc.Protections = append(hc.Protections, hp)
	}
	return hc, nil
}

var (
	handlerField   = regexp.MustCompile(`^handler: Config\.(\w+)(?:\[(\d+)\])?: (.*)$`)
	handlerProfile = regexp.MustCompile(`^handler: (?:default )?profile "([^"]*)"[: ]\s*(.*)$`)
	goFieldYAML    = map[string]string{
		"Protections": "protections", "TokenParam": "token_param", "DefaultProfile": "default_profile",
		"Limits": "limits", "PublicMaxAge": "public_max_age", "Leeway": "leeway",
		"ResultHeader": "result_header", "TokenCookie": "token_cookie", "Files": "root",
	}
	goWords = strings.NewReplacer("Config.Engine", "an image engine", "kind", "type", "Config.", "")
)

// handlerError translates an error of handler.New or NewSigning (which
// speaks of Go fields) into the file's vocabulary with a line.
func (c *fileConfig) handlerError(err error) error {
	msg := err.Error()
	e := configError{msg: goWords.Replace(strings.TrimPrefix(msg, "handler: "))}
	if sm := handlerField.FindStringSubmatch(msg); sm != nil {
		if y, ok := goFieldYAML[sm[1]]; ok {
			e.path = y
			if sm[2] != "" {
				e.path += "[" + sm[2] + "]"
			}
			e.msg = goWords.Replace(sm[3])
		}
	} else if sm := handlerProfile.FindStringSubmatch(msg); sm != nil {
		e.path = "profiles." + sm[1]
		if strings.Contains(msg, "default profile") {
			e.path = "default_profile"
		}
		if _, ok := c.lines.byPath[e.path]; !ok && e.path != "default_profile" {
			e.path = "profiles"
		}
	}
	e.line = c.lines.line(e.path)
	return &configErrors{name: c.name, list: []configError{e}}
}

// findKey returns the key with id (any protection), and the protection
// path it belongs to.
func (c *fileConfig) findKey(id string) (token.Key, string, error) {
	for _, p := range c.Protections {
		keys, _ := p.keys()
		for _, k := range keys {
			if k.ID == id {
				return k, p.Path, nil
			}
		}
	}
	return token.Key{}, "", errors.New("no key with id " + strconv.Quote(id) + " in the config")
}

// signingHandler returns the signing endpoint and its path, or nil when the
// config has no signing section. It signs with every jwt key that has an id.
func (c *fileConfig) signingHandler(logger *slog.Logger) (http.Handler, string, error) {
	sc := c.Signing
	if sc == nil {
		return nil, "", nil
	}
	path := sc.Path
	if path == "" {
		path = "/v2/files/jwt"
	}
	var keys []token.Key
	for _, p := range c.Protections {
		ks, _ := p.keys()
		for _, k := range ks {
			if k.ID != "" {
				keys = append(keys, k)
			}
		}
	}
	h, err := handler.NewSigning(handler.SigningConfig{
		Keys: keys, AdminToken: sc.adminToken, BaseURL: sc.BaseURL,
		TokenParam: c.TokenParam, MaxExpiresIn: sc.MaxExpiresIn, Limits: c.Limits.engine(),
		Watermarks: c.Watermarks, Logger: logger,
	})
	if err != nil {
		e := configError{path: "signing", msg: strings.TrimPrefix(err.Error(), "handler: ")}
		e.line = c.lines.line("signing")
		return nil, "", &configErrors{name: c.name, list: []configError{e}}
	}
	return h, path, nil
}

func (c *fileConfig) metricsPath() string {
	if c.MetricsPath == nil {
		return "/metrics"
	}
	return *c.MetricsPath
}

func (c *fileConfig) healthPath() string {
	if c.HealthPath == nil {
		return "/healthz"
	}
	return *c.HealthPath
}

func (c *fileConfig) readyPath() string {
	if c.ReadyPath == nil {
		return "/readyz"
	}
	return *c.ReadyPath
}
