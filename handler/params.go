package handler

import (
	"errors"
	"net/url"
	"strings"

	"github.com/keyhole-dev/keyhole/token"
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
// protection (strict profile, lock), the verified claims (the token's args;
// the verified-token cache hands out one *Claims per token) and the raw
// query. Profiles are checked on a hit.
type paramKey struct {
	prot     *protection
	claims   *token.Claims
	rawQuery string
}

// resolution is a cached successful parameter resolution. It is shared and
// read-only.
type resolution struct {
	profiles  *profileSet
	params    *transform.Params
	canonical string
	ignored   []string
}

// maxCachedQuery bounds the queries whose resolution is cached, so the
// cache's memory stays bounded (entries × this).
const maxCachedQuery = 2048

// params merges and validates the request's parameter layers (SPEC §3).
// Successful resolutions are cached: a variant-cache hit then costs no
// merging, parsing or canonicalising.
func (h *Handler) params(req *request) (*transform.Params, string, []string, error) {
	ps := h.profiles.Load()
	if req.prot.Kind != KindStrictProfile && ps.def == "" && (req.claims == nil || req.claims.Args == nil) && !h.hasInsecure(req.query) {
		// Nothing to merge (the common case of an original with only a
		// token): the zero Params, without the work or a cache lookup.
		return &noParams, "", nil, nil
	}
	cacheable := h.resolved != nil && len(req.rawQuery) <= maxCachedQuery
	key := paramKey{req.prot, req.claims, req.rawQuery}
	if cacheable {
		if v, ok := h.resolved.Get(key); ok && v.profiles == ps {
			return v.params, v.canonical, v.ignored, nil
		}
	}
	p, canonical, ignored, err := h.resolve(req, ps)
	if err == nil && cacheable {
		h.resolved.Add(key, &resolution{profiles: ps, params: p, canonical: canonical, ignored: ignored})
	}
	return p, canonical, ignored, err
}

func (h *Handler) resolve(req *request, ps *profileSet) (*transform.Params, string, []string, error) {
	layers := transform.Layers{Default: ps.def, Lock: req.prot.Lock}
	if req.prot.Kind == KindStrictProfile {
		layers.Strict = req.prot.Profile
	}
	layers.Insecure = h.insecure(req.query)
	if req.claims != nil && req.claims.Args != nil {
		secure, err := transform.FromArgs(req.claims.Args)
		if err != nil {
			return nil, "", nil, err
		}
		layers.Secure = secure
		if h.cfg.Engine == nil {
			if err := h.secureNeedsEngine(secure, ps.profiles); err != nil {
				return nil, "", nil, err
			}
		}
	}
	merged, ignored, err := transform.Merge(layers, ps.profiles)
	if err != nil {
		return nil, "", nil, err
	}
	p, err := transform.Parse(merged, h.cfg.Limits)
	if err != nil {
		return nil, "", nil, err
	}
	return p, transform.Canonical(merged), ignored, nil
}

// errNoEngine: the token locks parameters that only an engine can apply.
var errNoEngine = errors.New("no engine")

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

// noParams is the zero Params shared by every request that has none; it
// is never modified.
var noParams transform.Params

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
