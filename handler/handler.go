package handler

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
)

// Handler serves the files of a Config. It is safe for concurrent use.
type Handler struct {
	cfg         Config
	protections []*protection // longest Path first
	public      *protection   // the pseudo-protection of unprotected paths
	metrics     *metrics
	log         *slog.Logger
	logs        *logLimiter // rate-limited lines of refusals and failures
	bcrypt      *bcryptGate // bounds Basic credential checks
	profiles    atomic.Pointer[profileSet]
	variants    *variantCache
	opened      *openCache                        // nil when Config.OpenFiles < 0
	resolved    *lru.Cache[paramKey, *resolution] // nil when the token cache is off
	flight      flights
	slots       *semaphore.Weighted
	tokenPrefix string     // TokenParam + "=", or "" when the name needs escaping
	life        *lifecycle // Close and Reload, shared by every generation (lifecycle.go)
	// engineVersion is the engine's Version() (transform.VersionedEngine),
	// part of every variant's cache key and ETag; "" when it has none.
	engineVersion string

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
		slots:       semaphore.NewWeighted(int64(cfg.MaxConcurrent)),
		resultKey:   textproto.CanonicalMIMEHeaderKey(cfg.ResultHeader),
		publicCache: []string{"public, max-age=" + strconv.Itoa(int(cfg.PublicMaxAge/time.Second))},
	}
	h.bcrypt = newBcryptGate()
	h.logs = newLogLimiter(cfg.Logger, cfg.Now, cfg.LogLinesPerSecond, m.suppressed)
	if v, ok := cfg.Engine.(interface{ Version() string }); ok {
		h.engineVersion = v.Version()
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
			hp.dummyHash = newDummyHash(p.Logins)
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
	if cfg.OpenFiles > 0 {
		h.opened = newOpenCache(cfg.Files, cfg.Now, cfg.OpenFiles)
	}
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
	h.life = newLifecycle(h)
	return h, nil
}

func (h *Handler) newProtection(p Protection) *protection {
	hp := &protection{Protection: p, results: make([]prometheus.Counter, len(token.Results()))}
	for _, r := range token.Results() {
		hp.results[r] = h.metrics.auth.WithLabelValues(p.Name, r.String())
	}
	return hp
}

// exchange holds the per-request state, allocated once per request.
type exchange struct {
	w   statusWriter
	req request
	src file
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h = h.live() // the configuration of the last Reload, for the whole request
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
	p, err := token.CleanPath(r.URL.Path, h.cfg.MaxPathBytes)
	if err != nil {
		h.refuse(w, h.public, token.ResultBadPath)
		return
	}
	prot := h.match(p)
	query, queryTok, queryErr := h.parseQuery(r.URL.RawQuery)
	res, claims, tok := h.authorize(r, prot, p, queryTok)
	h.record(w, prot, res)
	if !res.Allowed() {
		switch res {
		case token.ResultCredentialsRequired, token.ResultCredentialsInvalid, token.ResultCredentialsExpired:
			w.Header().Set("WWW-Authenticate", `Basic realm="`+prot.Realm+`", charset="UTF-8"`)
		case token.ResultLoginsBusy:
			w.Header()["Retry-After"] = retryOne
		}
		h.fail(w, res.Status(), res.String())
		return
	}
	if queryErr != nil {
		// A query string that does not parse is not guessed at.
		h.answer(w, r, prot, outcomeBadQuery, queryErr)
		return
	}
	if !h.cfg.AllowDotFiles && hasDotSegment(p) {
		h.answer(w, r, prot, outcomeNotFound, nil)
		return
	}
	x.req = request{path: p, prot: prot, claims: claims, token: tok, query: query, rawQuery: r.URL.RawQuery}
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
