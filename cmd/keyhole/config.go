package main

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// fileConfig is the YAML configuration of keyhole serve. Unknown or
// ill-typed fields are errors that name the field and line.
type fileConfig struct {
	Addr              string                       `yaml:"addr"`
	Root              string                       `yaml:"root"`
	MetricsPath       *string                      `yaml:"metrics_path"`
	TokenParam        string                       `yaml:"token_param"`
	TokenCookie       string                       `yaml:"token_cookie"`
	Leeway            time.Duration                `yaml:"leeway"`
	ResultHeader      string                       `yaml:"result_header"`
	AllowDotFiles     bool                         `yaml:"allow_dot_files"`
	DenyUnprotected   bool                         `yaml:"deny_unprotected"`
	PublicMaxAge      time.Duration                `yaml:"public_max_age"`
	VariantCacheBytes int64                        `yaml:"variant_cache_bytes"`
	DefaultProfile    string                       `yaml:"default_profile"`
	Profiles          map[string]map[string]string `yaml:"profiles"`
	Watermarks        []string                     `yaml:"watermarks"`
	Limits            limitsConfig                 `yaml:"limits"`
	Protections       []protectionConfig           `yaml:"protections"`
	Signing           *signingConfig               `yaml:"signing"`
}

// signingConfig turns on the signing endpoint (SPEC §5); absent = off.
type signingConfig struct {
	Path         string        `yaml:"path"`
	AdminToken   string        `yaml:"admin_token"`
	BaseURL      string        `yaml:"base_url"`
	MaxExpiresIn time.Duration `yaml:"max_expires_in"`
}

type limitsConfig struct {
	MaxSourcePixels int           `yaml:"max_source_pixels"`
	MaxOutputWidth  int           `yaml:"max_output_width"`
	MaxOutputHeight int           `yaml:"max_output_height"`
	MaxSourceBytes  int64         `yaml:"max_source_bytes"`
	MaxTextRunes    int           `yaml:"max_text_runes"`
	Timeout         time.Duration `yaml:"timeout"`
	MaxConcurrent   int           `yaml:"max_concurrent"`
	QueueTimeout    time.Duration `yaml:"queue_timeout"`
	AllowVector     bool          `yaml:"allow_vector"`
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

type keyConfig struct {
	ID           string `yaml:"id"`
	Secret       string `yaml:"secret"`
	SecretBase64 string `yaml:"secret_base64"`
}

type loginConfig struct {
	User         string    `yaml:"user"`
	PasswordHash string    `yaml:"password_hash"`
	Expires      time.Time `yaml:"expires"`
}

type referrerConfig struct {
	Hosts          []string `yaml:"hosts"`
	RequireReferer bool     `yaml:"require_referer"`
}

var typeNames = regexp.MustCompile(` in type [\w.]+`)

// loadConfig reads and decodes a config file. Relative roots are relative
// to the config file's folder.
func loadConfig(name string) (*fileConfig, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read config %s", name)
	}
	var c fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %s", name, typeNames.ReplaceAllString(err.Error(), ""))
	}
	if c.Root == "" {
		return nil, fmt.Errorf("config %s: root is required", name)
	}
	if !filepath.IsAbs(c.Root) {
		c.Root = filepath.Join(filepath.Dir(name), c.Root)
	}
	return &c, nil
}

// keys turns key entries into token keys; exactly one of secret and
// secret_base64 must be set.
func (p protectionConfig) keys() ([]token.Key, error) {
	var keys []token.Key
	for i, k := range p.Keys {
		switch {
		case k.Secret != "" && k.SecretBase64 != "":
			return nil, fmt.Errorf("keys[%d] (%s): set secret or secret_base64, not both", i, k.ID)
		case k.Secret != "":
			keys = append(keys, token.KeyFromString(k.ID, k.Secret))
		case k.SecretBase64 != "":
			key, err := token.KeyFromBase64(k.ID, k.SecretBase64)
			if err != nil {
				return nil, fmt.Errorf("keys[%d]: %w", i, err)
			}
			keys = append(keys, key)
		default:
			return nil, fmt.Errorf("keys[%d] (%s): secret or secret_base64 is required", i, k.ID)
		}
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
		DefaultProfile:    c.DefaultProfile,
		Profiles:          c.Profiles,
		Limits:            transform.Limits(c.Limits),
	}
	for i, p := range c.Protections {
		keys, err := p.keys()
		if err != nil {
			return hc, fmt.Errorf("protections[%d]: %w", i, err)
		}
		hp := handler.Protection{
			Name: p.Name, Path: p.Path, Kind: handler.Kind(p.Type), Audience: handler.Audience(p.Audience), Keys: keys, Realm: p.Realm,
			Profile: p.Profile, Lock: p.Lock,
		}
		for _, l := range p.Logins {
			hp.Logins = append(hp.Logins, handler.Login(l))
		}
		if p.Referrers != nil {
			hp.Referrers = &handler.Referrers{Hosts: p.Referrers.Hosts, RequireReferer: p.Referrers.RequireReferer}
		}
		hc.Protections = append(hc.Protections, hp)
	}
	return hc, nil
}

// findKey returns the key with id (any protection), and the protection
// path it belongs to.
func (c *fileConfig) findKey(id string) (token.Key, string, error) {
	for _, p := range c.Protections {
		keys, err := p.keys()
		if err != nil {
			return token.Key{}, "", err
		}
		for _, k := range keys {
			if k.ID == id {
				return k, p.Path, nil
			}
		}
	}
	return token.Key{}, "", errors.New("no key with id " + id + " in the config")
}

// signingHandler returns the signing endpoint and its path, or nil when the
// config has no signing section. It signs with every jwt key that has an id.
func (c *fileConfig) signingHandler(logger *slog.Logger) (http.Handler, string, error) {
	sc := c.Signing
	if sc == nil {
		return nil, "", nil
	}
	if sc.Path == "" {
		sc.Path = "/v2/files/jwt"
	}
	var keys []token.Key
	for i, p := range c.Protections {
		ks, err := p.keys()
		if err != nil {
			return nil, "", fmt.Errorf("protections[%d]: %w", i, err)
		}
		for _, k := range ks {
			if k.ID != "" {
				keys = append(keys, k)
			}
		}
	}
	h, err := handler.NewSigning(handler.SigningConfig{
		Keys: keys, AdminToken: sc.AdminToken, BaseURL: sc.BaseURL,
		TokenParam: c.TokenParam, MaxExpiresIn: sc.MaxExpiresIn, Limits: transform.Limits(c.Limits),
		Watermarks: c.Watermarks, Logger: logger,
	})
	if err != nil {
		return nil, "", fmt.Errorf("signing: %w", err)
	}
	return h, sc.Path, nil
}

func (c *fileConfig) metricsPath() string {
	if c.MetricsPath == nil {
		return "/metrics"
	}
	return *c.MetricsPath
}
