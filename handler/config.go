package handler

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/keyhole-dev/keyhole/internal/pathrule"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// Kind is how a protection authorises requests. Its values are the
// constants below (Sirv offers the same three); New refuses any other.
type Kind string

// Protection kinds, the values of Kind. They are untyped constants so
// that configuration code may compare them with plain strings.
const (
	// KindJWT requires a token signed with one of the protection's keys.
	KindJWT = "jwt"
	// KindBasic requires HTTP Basic credentials of one of the logins.
	KindBasic = "basic"
	// KindStrictProfile requires nothing but applies Profile to every file
	// below Path; neither the URL nor a token can override it.
	KindStrictProfile = "strict-profile"
)

// Audience is how a KindJWT protection matches a token's "aud" entries
// against the request path. New refuses values other than the constants.
type Audience string

// Audience rules.
const (
	// AudiencePrefix (the default, Sirv's rule): an aud entry opens every
	// path it prefixes as a string. "/private/" opens the folder, and a
	// file audience "/private/photo.jpg" also opens
	// "/private/photo.jpg.orig" and "/private/photo.jpg-large/x.jpg".
	AudiencePrefix Audience = "prefix"
	// AudienceExact: the path must equal an aud entry, or lie under an
	// entry that ends in "/" (a folder). "/private/photo.jpg" opens that
	// file only, and "/p/t" no longer opens "/p/to/x.jpg".
	AudienceExact Audience = "exact"
)

// DefaultQueueTimeout is the default Config.QueueTimeout.
const DefaultQueueTimeout = 2 * time.Second

// NoProtection is the protection label of requests that no protection
// covers (metrics and logs). It cannot be used as a protection name.
const NoProtection = "none"

// Config configures a Handler. Zero fields take the documented defaults.
type Config struct {
	// Files is the tree served. Required. Use Dir to serve a directory
	// through os.Root (symlinks that leave the directory do not resolve), or
	// any fs.FS (embed.FS, fstest.MapFS, a blob bucket).
	Files fs.FS

	// Protections guard path prefixes. A request is checked by the one
	// protection with the longest Path that prefixes its cleaned path
	// (plain string comparison). Paths under no protection are public.
	Protections []Protection

	// DenyUnprotected refuses (403 "unprotected path denied") every path
	// that no protection covers. Default false: such paths are public.
	DenyUnprotected bool

	// TokenParam is the query parameter that carries the token. Default
	// "jwt". The token is also read from "Authorization: Bearer", and from
	// TokenCookie when that is set.
	TokenParam string
	// TokenCookie names a cookie that may carry the token. Default "" (off).
	TokenCookie string

	// Leeway is the clock skew allowed on exp and nbf. Default 30s; a
	// negative value means none.
	Leeway time.Duration
	// TokenCacheSize bounds each protection's verified-token cache, in
	// tokens, and the cache of resolved parameters (token args × query
	// string, for queries up to 2 KiB), in entries. Default 4096; negative
	// disables both.
	TokenCacheSize int

	// ResultHeader names the response header that carries the auth result.
	// Default "X-Keyhole-Auth-Result".
	ResultHeader string

	// AllowDotFiles serves files and folders whose name starts with ".".
	// Default false: they are 404, so /.env or /a/.git/config never leak.
	AllowDotFiles bool

	// MaxPathBytes bounds the request path. Default 1024; longer is 400.
	MaxPathBytes int
	// Watermarks are the folders a watermark may be read from, each "/" or
	// a clean folder path ending in "/", such as "/wm/". A watermark that a
	// token or a profile names anywhere else is refused with the same 400
	// as a missing one, so the holder of one folder's key cannot render
	// another protection's files as a watermark, nor learn which exist.
	// None (the default) means no watermark is ever read.
	Watermarks []string

	// PublicMaxAge is the Cache-Control max-age of public files, and the
	// upper bound for protected ones (whose max-age never outlives the
	// token). Default 1h.
	PublicMaxAge time.Duration

	// Engine executes image parameters. Nil means no image processing:
	// parameters from the query string are validated but originals are
	// served unchanged, and the response says so in
	// X-Keyhole-Ignored-Params. Locked parameters fail closed: a token
	// whose args need processing gets 503, and New refuses strict-profile
	// protections and a DefaultProfile, since serving the original would
	// drop a watermark or a size limit.
	Engine transform.Engine
	// Limits bound transforms (pixels, dimensions, bytes, text, time,
	// concurrency). Zero fields take transform.DefaultLimits.
	//
	// An engine that reports its limits (a Limits() transform.Limits
	// method, as vips.Engine has) owns them: parameters are parsed with
	// the engine's limits, so the handler never accepts what the engine
	// refuses. Leave Limits zero to use them; New refuses Limits that
	// differ from the engine's. Limits.Timeout is applied by the engine,
	// not by the handler.
	Limits transform.Limits
	// MaxConcurrent bounds the transforms running at once. Default 2 per
	// CPU. Requests beyond it wait up to QueueTimeout for a slot, then get
	// 503 with Retry-After. Originals and cached variants need no slot.
	MaxConcurrent int
	// QueueTimeout is how long a transform waits for a slot. Default 2s.
	QueueTimeout time.Duration
	// Profiles are named parameter sets (name -> parameter -> value).
	Profiles map[string]map[string]string
	// DefaultProfile applies to every request, below all other parameters.
	DefaultProfile string
	// VariantCacheBytes bounds the in-memory cache of transformed images.
	// Default 64 MiB; negative disables it.
	VariantCacheBytes int64
	// OpenFiles bounds the open-file cache: how many descriptors of
	// recently served originals stay open while no request uses them, so a
	// warm request for an original costs no open, stat or close (as nginx's
	// open_file_cache). A cached file is trusted for OpenFileValid (1 s)
	// of the clock Now: a file replaced, removed or re-linked in that time
	// may still be served as it was until then, never longer; then its name
	// is opened again through Files, so os.Root's rules apply afresh. Only
	// regular *os.File files (Dir) are cached; transforms always open their
	// source. Default DefaultOpenFiles (256); negative disables the cache.
	OpenFiles int
	// VariantStore, when set, is a store of variants shared by replicas
	// (source.Store): after the in-memory cache misses, a variant is
	// looked up there before it is computed, and a computed variant is
	// written to it in the background. A store that fails never fails a
	// request: its lookup is a miss. Nil: no shared store.
	VariantStore VariantStore

	// Registerer receives the metrics. Nil means no metrics are exported;
	// the global registry is never used implicitly.
	Registerer prometheus.Registerer
	// Logger receives structured logs. Nil discards them. No log line holds
	// a secret, a full token, or a file system path.
	Logger *slog.Logger
	// LogLinesPerSecond bounds the log lines of refused tokens and failed
	// requests, per kind (each token result, each outcome), so a flood of
	// bad requests cannot fill the disk; the lines dropped are counted in
	// keyhole_log_lines_suppressed_total and reported as "suppressed" on
	// the next line of their kind. Default 10; negative means no limit.
	LogLinesPerSecond int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Protection guards every path that starts with Path.
type Protection struct {
	// Name labels the protection in metrics and logs. Default: Path.
	Name string
	// Path is the prefix guarded, e.g. "/private/". Required: "/", or a
	// clean path (the rules of token.CleanPath) optionally ending in "/". A path
	// without the final "/" is a string prefix: "/p" guards "/p/x.jpg" and
	// "/photo.jpg" alike.
	Path string
	// Kind is KindJWT, KindBasic or KindStrictProfile. Default KindJWT.
	Kind Kind
	// Audience is how tokens' aud entries match paths (KindJWT only):
	// AudiencePrefix (default) or AudienceExact.
	Audience Audience
	// Keys verify tokens (KindJWT; at least one). Several keys allow
	// rotation: a token's "kid" picks one; a token without kid tries each.
	// A key's NotBefore revokes the tokens it verifies that were issued
	// before it (or carry no iat): 403 "revoked token". Change it with
	// Reload to kill leaked URLs without rotating the key.
	Keys []token.Key
	// Logins are the accepted credentials (KindBasic; 1 to 5).
	Logins []Login
	// Realm is the Basic realm. Default "keyhole".
	Realm string
	// Profile is applied to every file below Path (KindStrictProfile;
	// required) and overrides every other parameter.
	Profile string
	// Lock ignores every parameter from the query string: only the token's
	// args and profiles apply.
	Lock bool
	// Referrers restricts the Referer header (nil: any or none).
	Referrers *Referrers
}

// Login is one HTTP Basic credential of a KindBasic protection.
type Login struct {
	// User is the login name.
	User string
	// PasswordHash is a bcrypt hash of the password. Every login of a
	// protection has the same bcrypt cost (New refuses a mix), so a
	// wrong guess takes as long for an existing user as for an unknown
	// one, compared against a dummy hash of that cost.
	PasswordHash string
	// Expires, when not zero, is when the login stops working (401
	// "credentials expired").
	Expires time.Time
}

// Referrers restricts where requests may come from.
type Referrers struct {
	// Hosts are the allowed Referer hosts ("example.com" also allows
	// "www.example.com" and any other subdomain when written ".example.com";
	// exact otherwise). Compared case-insensitively, port ignored.
	Hosts []string
	// RequireReferer refuses requests without a Referer header. Default
	// false: such requests pass (browsers and privacy tools drop it).
	RequireReferer bool
}

// Dir opens dir through os.Root and returns it as an fs.FS. Files resolved
// through it can never leave dir: "..", absolute names and symlinks that
// point outside are refused by the operating system's openat rules.
//
// Symlinks that stay inside dir are followed, and protections are matched
// on the requested path, not the link's target: a link /public/x pointing
// to ../private/y serves the private file without a token. Do not let
// untrusted parties create links in the tree.
func Dir(dir string) (fs.FS, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, errors.New("handler: cannot open the root directory")
	}
	return root.FS(), nil
}

const maxLogins = 5

func (c *Config) fill() error {
	if c.Files == nil {
		return errors.New("handler: Config.Files is required")
	}
	if c.TokenParam == "" {
		c.TokenParam = "jwt"
	}
	if transform.Known(c.TokenParam) {
		return fmt.Errorf("handler: Config.TokenParam %q is an image parameter name", c.TokenParam)
	}
	if c.Engine == nil && c.DefaultProfile != "" {
		return errors.New("handler: Config.DefaultProfile needs Config.Engine: without an engine the profile could not be applied")
	}
	if c.ResultHeader == "" {
		c.ResultHeader = "X-Keyhole-Auth-Result"
	}
	if c.MaxPathBytes == 0 {
		c.MaxPathBytes = 1024
	}
	if c.MaxPathBytes < 0 {
		return errors.New("handler: Config.MaxPathBytes must not be negative")
	}
	for i, f := range c.Watermarks {
		if !strings.HasSuffix(f, "/") || pathrule.CheckFolder(f, pathrule.MaxBytes) != "" {
			return fmt.Errorf("handler: Config.Watermarks[%d] must be a clean folder path ending in /", i)
		}
	}
	if c.PublicMaxAge == 0 {
		c.PublicMaxAge = time.Hour
	}
	if c.PublicMaxAge < 0 {
		return errors.New("handler: Config.PublicMaxAge must not be negative")
	}
	if c.VariantCacheBytes == 0 {
		c.VariantCacheBytes = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OpenFiles == 0 {
		c.OpenFiles = DefaultOpenFiles
	}
	if c.LogLinesPerSecond == 0 {
		c.LogLinesPerSecond = 10
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 2 * runtime.NumCPU()
	}
	if c.QueueTimeout == 0 {
		c.QueueTimeout = DefaultQueueTimeout
	}
	if c.MaxConcurrent < 0 || c.QueueTimeout < 0 {
		return errors.New("handler: Config.MaxConcurrent and Config.QueueTimeout must not be negative")
	}
	if err := c.engineLimits(); err != nil {
		return err
	}
	c.Limits = c.Limits.WithDefaults()
	if err := c.Limits.Validate(); err != nil {
		return fmt.Errorf("handler: Config.Limits: %w", err)
	}
	// Defaults are filled in copies: the caller's slice and Referrers stay
	// as written (they may be shared, or reused for another handler).
	c.Protections = slices.Clone(c.Protections)
	c.Profiles = cloneProfiles(c.Profiles) // lifecycle.go
	seen := map[string]bool{}
	for i := range c.Protections {
		p := &c.Protections[i]
		if r := p.Referrers; r != nil {
			p.Referrers = &Referrers{Hosts: slices.Clone(r.Hosts), RequireReferer: r.RequireReferer}
		}
		if err := p.fill(); err != nil {
			return fmt.Errorf("handler: Config.Protections[%d]: %w", i, err)
		}
		if seen[p.Path] {
			return fmt.Errorf("handler: Config.Protections[%d]: path %q is guarded twice", i, p.Path)
		}
		seen[p.Path] = true
		if p.Kind == KindStrictProfile {
			if c.Engine == nil {
				return fmt.Errorf("handler: Config.Protections[%d]: a strict-profile protection needs Config.Engine", i)
			}
			if _, ok := c.Profiles[p.Profile]; !ok {
				return fmt.Errorf("handler: Config.Protections[%d]: profile %q is not defined", i, p.Profile)
			}
		}
	}
	if err := checkProfiles(c.Profiles, c.DefaultProfile, c.Limits); err != nil {
		return err
	}
	return nil
}

func (p *Protection) fill() error {
	if reason := pathrule.CheckFolder(p.Path, pathrule.MaxBytes); reason != "" {
		return errors.New("path " + reason)
	}
	if p.Name == "" {
		p.Name = p.Path
	}
	if p.Name == NoProtection {
		return fmt.Errorf("name %q is reserved", NoProtection)
	}
	if p.Kind == "" {
		p.Kind = KindJWT
	}
	switch p.Audience {
	case "":
		p.Audience = AudiencePrefix
	case AudiencePrefix, AudienceExact:
	default:
		return fmt.Errorf("unknown audience %q (want prefix or exact)", p.Audience)
	}
	if p.Audience == AudienceExact && p.Kind != KindJWT {
		return errors.New("audience applies to jwt protections only")
	}
	switch p.Kind {
	case KindJWT:
		if len(p.Keys) == 0 {
			return errors.New("a jwt protection needs at least one key")
		}
	case KindBasic:
		if len(p.Logins) == 0 || len(p.Logins) > maxLogins {
			return fmt.Errorf("a basic protection needs 1 to %d logins", maxLogins)
		}
		cost0 := 0
		for j, l := range p.Logins {
			if l.User == "" || strings.Contains(l.User, ":") {
				return fmt.Errorf("logins[%d]: user must be non-empty and without ':'", j)
			}
			cost, err := bcrypt.Cost([]byte(l.PasswordHash))
			if err != nil || !strings.HasPrefix(l.PasswordHash, "$2") {
				return fmt.Errorf("logins[%d]: password_hash must be a bcrypt hash", j)
			}
			// One cost per protection: a wrong password for a cheaper
			// hash is answered sooner than one for an unknown user
			// (compared against a dummy of the common cost), which tells
			// an attacker that the user exists.
			if j == 0 {
				cost0 = cost
			} else if cost != cost0 {
				return fmt.Errorf("logins[%d]: password_hash has bcrypt cost %d, logins[0] has %d: every login of a protection needs the same cost, or response times tell which users exist", j, cost, cost0)
			}
		}
		if p.Realm == "" {
			p.Realm = "keyhole"
		}
	case KindStrictProfile:
		if p.Profile == "" {
			return errors.New("a strict-profile protection needs a profile")
		}
	default:
		return fmt.Errorf("unknown kind %q (want jwt, basic or strict-profile)", p.Kind)
	}
	if r := p.Referrers; r != nil {
		for j, h := range r.Hosts {
			if h == "" || strings.ContainsAny(h, "/:@ ") {
				return fmt.Errorf("referrers.hosts[%d]: a bare host name is required", j)
			}
			r.Hosts[j] = strings.ToLower(h)
		}
	}
	return nil
}

// engineLimits makes an engine's own limits the handler's (see
// Config.Limits), or fails when the two differ.
func (c *Config) engineLimits() error {
	le, ok := c.Engine.(interface{ Limits() transform.Limits })
	if !ok {
		return nil
	}
	el := le.Limits()
	if c.Limits == (transform.Limits{}) {
		c.Limits = el
		return nil
	}
	if c.Limits.WithDefaults() != el.WithDefaults() {
		return errors.New("handler: Config.Limits differ from the engine's limits (Engine.Limits()); leave Config.Limits zero to use the engine's")
	}
	return nil
}

// checkProfiles parses every profile so a bad profile fails at start-up
// (or reload), not on the first request that uses it.
func checkProfiles(profiles map[string]map[string]string, def string, lim transform.Limits) error {
	names := make([]string, 0, len(profiles))
	for name := range profiles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, err := transform.Parse(profiles[name], lim); err != nil {
			return fmt.Errorf("handler: profile %q: %w", name, err)
		}
	}
	if def != "" {
		if _, ok := profiles[def]; !ok {
			return fmt.Errorf("handler: default profile %q is not defined", def)
		}
	}
	return nil
}
