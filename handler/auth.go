package handler

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
)

type protection struct {
	Protection
	verifier *verify.Verifier
	results  []prometheus.Counter // indexed by token.Result
	logins   *loginCache          // KindBasic: credentials that passed bcrypt
	// dummyHash (KindBasic) is compared against for an unknown user; its
	// cost is the logins' (newDummyHash).
	dummyHash []byte
}

// loginCache remembers credentials that passed bcrypt, so a browser that
// sends them with every image does not cost a bcrypt comparison (tens of
// milliseconds) per request. Entries are keyed by an HMAC of user and
// password under a key made at start-up, so the cache holds no password
// and nothing that could be checked offline. Failures are never cached.
type loginCache struct {
	key [32]byte
	ok  *lru.Cache[[32]byte, int] // login index
}

const loginCacheSize = 1024

func newLoginCache() *loginCache {
	c := &loginCache{}
	rand.Read(c.key[:])
	c.ok, _ = lru.New[[32]byte, int](loginCacheSize)
	return c
}

func (c *loginCache) id(user, pass string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(pass))
	var id [32]byte
	m.Sum(id[:0])
	return id
}

// authorize decides the request's token.Result. For a verified token it
// also returns the claims and the token itself.
func (h *Handler) authorize(r *http.Request, prot *protection, p string, queryTok string) (token.Result, *token.Claims, string) {
	if prot == h.public {
		if h.cfg.DenyUnprotected {
			return token.ResultUnprotectedDenied, nil, ""
		}
		return token.ResultPublic, nil, ""
	}
	if !prot.referrerAllowed(r) {
		return token.ResultReferrerDenied, nil, ""
	}
	switch prot.Kind {
	case KindBasic:
		return h.checkBasic(r, prot), nil, ""
	case KindStrictProfile:
		return token.ResultOK, nil, ""
	}
	tok := h.findToken(r, queryTok)
	if tok == "" {
		return token.ResultMissingToken, nil, ""
	}
	claims, err := prot.verifier.Verify(tok, p)
	if err == nil && prot.Audience == AudienceExact && !exactAudience(claims.Audience, p) {
		err = token.ResultAudienceMismatch
	}
	if err != nil {
		var res token.Result
		if !errors.As(err, &res) {
			res = token.ResultMalformedToken
		}
		h.logs.logAs(r.Context(), "token refused: "+res.String(), slog.LevelInfo, "token refused", "protection", prot.Name, "result", res.String(), "token", tokenID(tok))
		return res, nil, ""
	}
	return token.ResultOK, claims, tok
}

// exactAudience is the AudienceExact rule: p equals an aud entry, or lies
// under an entry that ends in "/". The verifier has already applied the
// prefix rule, which this narrows.
func exactAudience(aud []string, p string) bool {
	for _, a := range aud {
		if a == p || (strings.HasSuffix(a, "/") && strings.HasPrefix(p, a)) {
			return true
		}
	}
	return false
}

func (h *Handler) findToken(r *http.Request, queryTok string) string {
	if queryTok != "" {
		return queryTok
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if h.cfg.TokenCookie != "" {
		if c, err := r.Cookie(h.cfg.TokenCookie); err == nil {
			return c.Value
		}
	}
	return ""
}

// tokenID identifies a token in logs without revealing it: the first 12 hex
// digits of its SHA-256.
func tokenID(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

func (p *protection) referrerAllowed(r *http.Request) bool {
	if p.Referrers == nil {
		return true
	}
	ref := r.Header.Get("Referer")
	if ref == "" {
		return !p.Referrers.RequireReferer
	}
	u, err := url.Parse(ref)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	for _, allowed := range p.Referrers.Hosts {
		if host == allowed || (strings.HasPrefix(allowed, ".") && (strings.HasSuffix(host, allowed) || host == allowed[1:])) {
			return true
		}
	}
	return false
}

// checkBasic compares credentials with bcrypt (once per distinct correct
// credential, see loginCache). A wrong user costs as much as a wrong
// password: an unknown user is compared against a dummy hash of the
// protection's bcrypt cost (one for all its logins, see Login), so timing
// does not reveal which logins exist. Comparisons are bounded by the bcrypt gate: wrong
// guesses cannot take more than its slots' worth of CPU, and a request
// that finds no slot free within its wait is refused with
// token.ResultLoginsBusy (429) without a comparison.
func (h *Handler) checkBasic(r *http.Request, p *protection) token.Result {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return token.ResultCredentialsRequired
	}
	id := p.logins.id(user, pass)
	match, cached := p.logins.ok.Get(id)
	if !cached {
		// Identical credentials arriving together (a browser's first
		// page of images) share one comparison.
		v, _, _ := h.bcrypt.flight.Do(string(id[:]), func() (any, error) {
			return h.compareLogin(r.Context(), p, id, user, pass), nil
		})
		cmp := v.(loginCheck)
		if cmp.res != token.ResultOK {
			return cmp.res
		}
		match = cmp.match
	}
	if exp := p.Logins[match].Expires; !exp.IsZero() && h.cfg.Now().After(exp) {
		return token.ResultCredentialsExpired
	}
	return token.ResultOK
}

type loginCheck struct {
	res   token.Result
	match int
}

func (h *Handler) compareLogin(ctx context.Context, p *protection, id [32]byte, user, pass string) loginCheck {
	// The comparison is shared by identical requests (checkBasic): it
	// does not end with the first one's connection, only with the wait.
	wait, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.bcrypt.wait)
	defer cancel()
	if h.bcrypt.slots.Acquire(wait, 1) != nil {
		return loginCheck{res: token.ResultLoginsBusy}
	}
	defer h.bcrypt.slots.Release(1)
	match := -1
	for i, l := range p.Logins {
		if l.User == user {
			match = i
		}
	}
	hash := p.dummyHash
	if match >= 0 {
		hash = []byte(p.Logins[match].PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || match < 0 {
		return loginCheck{res: token.ResultCredentialsInvalid}
	}
	p.logins.ok.Add(id, match)
	return loginCheck{res: token.ResultOK, match: match}
}

// bcryptGate bounds the bcrypt comparisons of every basic protection of
// a Handler: slots run at once (one per CPU), and a request waits at most
// wait for one.
type bcryptGate struct {
	slots  *semaphore.Weighted
	wait   time.Duration
	flight singleflight.Group
}

// bcryptWait is how long a Basic request waits for a bcrypt slot before
// it is refused with 429.
const bcryptWait = time.Second

func newBcryptGate() *bcryptGate {
	return &bcryptGate{slots: semaphore.NewWeighted(int64(runtime.NumCPU())), wait: bcryptWait}
}

// newDummyHash returns a bcrypt hash of a random, unknown password, of the
// logins' cost (validate makes it one for all), so comparing an unknown
// user against it takes as long as a real login.
func newDummyHash(logins []Login) []byte {
	cost := bcrypt.MinCost
	for _, l := range logins {
		if c, err := bcrypt.Cost([]byte(l.PasswordHash)); err == nil && c > cost {
			cost = c
		}
	}
	var pw [16]byte
	rand.Read(pw[:])
	h, _ := bcrypt.GenerateFromPassword(pw[:], cost)
	return h
}

func (h *Handler) record(w http.ResponseWriter, prot *protection, res token.Result) {
	w.Header()[h.resultKey] = h.resultValues[res]
	prot.results[res].Inc()
}

func (h *Handler) refuse(w http.ResponseWriter, prot *protection, res token.Result) {
	h.record(w, prot, res)
	h.fail(w, res.Status(), res.String())
}
