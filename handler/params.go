package handler

import (
	"crypto/sha256"
	"net/url"
	"strings"

	"github.com/keyhole-dev/keyhole/transform"
)

// unprocessed returns the names in a canonical parameter string that only
// an engine can apply (all but dl).
func unprocessed(canonical string) []string {
	var names []string
	for pair := range strings.SplitSeq(canonical, "&") {
		if name, _, _ := strings.Cut(pair, "="); name != "" && name != "dl" {
			names = append(names, name)
		}
	}
	return names
}

// paramKey identifies the inputs of a parameter resolution: the
// protection (strict profile, lock), the SHA-256 of the verified token
// whose args apply (zero when no token args apply) and the raw query.
// Profiles are checked on a hit. The key holds values only, so it does not
// depend on how the verifier caches claims.
type paramKey struct {
	prot     *protection
	args     [sha256.Size]byte
	rawQuery string
}

// resolution is the outcome of merging a request's parameter layers: the
// effective parameters, their canonical spelling (the variant's cache key)
// and the query parameters the locks ignored. A cached resolution is
// shared and read-only.
type resolution struct {
	profiles  *profileSet
	params    *transform.Params
	canonical string
	ignored   []string
}

// maxCachedQuery bounds the queries whose resolution is cached, so the
// cache's memory stays bounded (entries × this).
const maxCachedQuery = 2048

// params merges and validates the request's parameter layers (docs/behaviour.md, Locks).
// Successful resolutions are cached: a variant-cache hit then costs no
// merging, parsing or canonicalising.
func (h *Handler) params(req *request) (*resolution, error) {
	ps := h.profiles.Load()
	hasArgs := req.claims != nil && req.claims.Args != nil
	if req.prot.Kind != KindStrictProfile && ps.def == "" && !hasArgs && !h.hasInsecure(req.query) {
		// Nothing to merge (the common case of an original with only a
		// token): the zero Params, without the work or a cache lookup.
		return &noResolution, nil
	}
	cacheable := h.resolved != nil && len(req.rawQuery) <= maxCachedQuery
	var key paramKey
	if cacheable {
		key = paramKey{prot: req.prot, rawQuery: req.rawQuery}
		if hasArgs {
			key.args = sha256.Sum256([]byte(req.token))
		}
		if v, ok := h.resolved.Get(key); ok && v.profiles == ps {
			return v, nil
		}
	}
	res, err := h.resolve(req, ps)
	if err != nil {
		return nil, err
	}
	if cacheable {
		h.resolved.Add(key, res)
	}
	return res, nil
}

func (h *Handler) resolve(req *request, ps *profileSet) (*resolution, error) {
	layers := transform.Layers{Default: ps.def, Lock: req.prot.Lock}
	if req.prot.Kind == KindStrictProfile {
		layers.Strict = req.prot.Profile
	}
	layers.Insecure = h.insecure(req.query)
	if req.claims != nil && req.claims.Args != nil {
		secure, err := transform.FromArgs(req.claims.Args)
		if err != nil {
			return nil, err
		}
		layers.Secure = secure
		if h.cfg.Engine == nil {
			if err := h.secureNeedsEngine(secure, ps.profiles); err != nil {
				return nil, err
			}
		}
	}
	merged, ignored, err := transform.Merge(layers, ps.profiles)
	if err != nil {
		return nil, err
	}
	p, err := transform.Parse(merged, h.cfg.Limits)
	if err != nil {
		return nil, err
	}
	return &resolution{profiles: ps, params: p, canonical: transform.Canonical(merged), ignored: ignored}, nil
}

// secureNeedsEngine fails closed when there is no engine and the token's
// args (or the profile they name) ask for processing: serving the original
// would drop a watermark or a size limit the token locks.
func (h *Handler) secureNeedsEngine(secure map[string]string, profiles map[string]map[string]string) error {
	merged, _, err := transform.Merge(transform.Layers{Secure: secure}, profiles)
	if err != nil {
		return err
	}
	p, err := transform.Parse(merged, h.cfg.Limits)
	if err != nil {
		return err
	}
	if p.NeedsProcessing() {
		return errNoEngine
	}
	return nil
}

// noResolution is the resolution of every request without parameters: the
// zero Params. It is shared and never modified.
var noResolution = resolution{params: new(transform.Params)}

// hasInsecure reports whether the query has a parameter other than the
// token.
func (h *Handler) hasInsecure(q url.Values) bool {
	for name := range q {
		if name != h.cfg.TokenParam {
			return true
		}
	}
	return false
}

// insecure returns the query's parameters without the token, or nil when
// the token is all there is.
func (h *Handler) insecure(q url.Values) map[string]string {
	if !h.hasInsecure(q) {
		return nil
	}
	m := transform.FromQuery(q)
	delete(m, h.cfg.TokenParam)
	return m
}
