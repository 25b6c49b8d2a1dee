package handler_test

import (
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// TestRevokeByNotBefore: a leaked URL dies in one Reload that sets its
// key's NotBefore, with its own result (403 "revoked token", counted), while
// URLs signed after the cut by the same key keep working and the key
// itself is not rotated.
func TestRevokeByNotBefore(t *testing.T) {
	protections := func(k token.Key) []handler.Protection {
		return []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{k}}}
	}
	e := newEnv(t, handler.Config{Protections: protections(keyOne)})
	leaked := e.sign(t, keyOne, token.ForPath("/private/", now.Add(-time.Hour), 2*time.Hour))
	fresh := e.sign(t, keyOne, claims("/private/", time.Hour)) // iat = now
	noIat := e.sign(t, keyOne, &token.Claims{Audience: []string{"/private/"}, ExpiresAt: now.Add(time.Hour)})
	for _, tok := range []string{leaked, fresh, noIat} {
		e.get(t, "/private/doc.txt?jwt="+tok).expect(t, 200, "ok")
	}

	revoked := keyOne
	revoked.NotBefore = now.Add(-time.Minute)
	next := e.cfg
	next.Registerer = nil
	next.Protections = protections(revoked)
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/private/doc.txt?jwt="+leaked).expect(t, 403, "revoked token")
	e.get(t, "/private/doc.txt?jwt="+noIat).expect(t, 403, "revoked token")
	e.get(t, "/private/doc.txt?jwt="+fresh).expect(t, 200, "ok")
	if got := e.auth(t, "private", "revoked token"); got != 2 {
		t.Errorf("keyhole_auth_results_total{protection=private,result=revoked token} = %v, want 2", got)
	}

	// Clearing the cut is a reload too.
	next.Protections = protections(keyOne)
	if err := e.h.Reload(next); err != nil {
		t.Fatal(err)
	}
	e.get(t, "/private/doc.txt?jwt="+leaked).expect(t, 200, "ok")
}

// TestRevokeAtNew: NotBefore set from the start refuses old tokens, and the
// "revoked token" series exists at zero before any request.
func TestRevokeAtNew(t *testing.T) {
	revoked := keyOne
	revoked.NotBefore = now
	e := newEnv(t, handler.Config{Protections: []handler.Protection{{Name: "private", Path: "/private/", Keys: []token.Key{revoked}}}})
	if got := e.auth(t, "private", "revoked token"); got != 0 {
		t.Fatalf("pre-created series = %v, want 0", got)
	}
	e.get(t, "/private/doc.txt?jwt="+e.sign(t, keyOne, token.ForPath("/private/", now.Add(-time.Second), time.Hour))).expect(t, 403, "revoked token")
	e.get(t, "/private/doc.txt?jwt="+e.sign(t, keyOne, claims("/private/", time.Hour))).expect(t, 200, "ok")
}
