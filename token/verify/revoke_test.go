package verify_test

import (
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/token/verify"
)

// TestNotBefore: a key's NotBefore refuses the tokens it verifies that were
// issued before it or carry no iat, with its own result, and nothing else.
func TestNotBefore(t *testing.T) {
	cut := t0.Add(-10 * time.Minute)
	revokedA := keyA
	revokedA.NotBefore = cut
	claims := func(iat time.Time) *token.Claims {
		return &token.Claims{Audience: []string{"/p/"}, IssuedAt: iat, ExpiresAt: t0.Add(time.Hour)}
	}
	noKid := func(k token.Key) token.Key { k.ID = ""; return k }

	for _, tc := range []struct {
		name string
		keys []token.Key
		tok  string
		want token.Result
	}{
		{"iat before", []token.Key{revokedA}, sign(t, keyA, claims(cut.Add(-time.Second))), token.ResultRevoked},
		{"iat long before", []token.Key{revokedA}, sign(t, keyA, claims(cut.Add(-24*time.Hour))), token.ResultRevoked},
		{"iat at the cut", []token.Key{revokedA}, sign(t, keyA, claims(cut)), token.ResultOK},
		{"iat after", []token.Key{revokedA}, sign(t, keyA, claims(cut.Add(time.Second))), token.ResultOK},
		{"no iat", []token.Key{revokedA}, sign(t, keyA, claims(time.Time{})), token.ResultRevoked},
		{"no iat, no cut", []token.Key{keyA}, sign(t, keyA, claims(time.Time{})), token.ResultOK},
		{"old iat, no cut", []token.Key{keyA}, sign(t, keyA, claims(cut.Add(-24*time.Hour))), token.ResultOK},
		// Only the key that verified the token matters.
		{"other key revoked", []token.Key{revokedA, keyB}, sign(t, keyB, claims(cut.Add(-time.Hour))), token.ResultOK},
		{"no kid, matching key revoked", []token.Key{noKid(keyB), noKid(revokedA)}, sign(t, noKid(keyA), claims(cut.Add(-time.Hour))), token.ResultRevoked},
		{"no kid, other key revoked", []token.Key{noKid(revokedA), noKid(keyB)}, sign(t, noKid(keyB), claims(cut.Add(-time.Hour))), token.ResultOK},
		// Earlier checks win: a revoked token that is also expired or
		// tampered reports that.
		{"revoked and expired", []token.Key{revokedA}, sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, IssuedAt: cut.Add(-time.Hour), ExpiresAt: t0.Add(-time.Hour)}), token.ResultExpired},
		{"revoked, wrong key", []token.Key{revokedA}, sign(t, token.KeyFromString("a", "another-secret-0123456789abcdefghij"), claims(cut.Add(-time.Hour))), token.ResultSignatureMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, verify.Config{Keys: tc.keys})
			for i := range 2 { // the second call may come from the cache
				_, err := v.Verify(tc.tok, "/p/a.jpg")
				if got := resultOf(t, err); got != tc.want {
					t.Fatalf("call %d: Verify = %v, want %v", i+1, got, tc.want)
				}
			}
		})
	}
}

// TestNotBeforeSetKeys: setting NotBefore on a live verifier kills a token
// that was verified (and cached) a moment before, and clearing it brings
// the token back.
func TestNotBeforeSetKeys(t *testing.T) {
	tok := sign(t, keyA, &token.Claims{Audience: []string{"/p/"}, IssuedAt: t0.Add(-time.Hour), ExpiresAt: t0.Add(time.Hour)})
	v := newVerifier(t, verify.Config{Keys: []token.Key{keyA}})
	revoked := keyA
	revoked.NotBefore = t0.Add(-time.Minute)
	for i, step := range []struct {
		keys []token.Key
		want token.Result
	}{
		{[]token.Key{keyA}, token.ResultOK},
		{[]token.Key{revoked}, token.ResultRevoked},
		{[]token.Key{keyA}, token.ResultOK},
	} {
		if err := v.SetKeys(step.keys); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok, "/p/a"); resultOf(t, err) != step.want {
			t.Fatalf("step %d: Verify = %v, want %v", i, resultOf(t, err), step.want)
		}
	}
}

func TestKeyRevokes(t *testing.T) {
	cut := time.Date(2025, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	k := token.Key{ID: "a", Secret: []byte("x"), NotBefore: cut}
	for _, tc := range []struct {
		key  token.Key
		iat  time.Time
		want bool
	}{
		{k, time.Time{}, true},
		{k, cut.Add(-time.Nanosecond), true},
		{k, cut.Truncate(time.Second), true}, // iat has whole seconds: the cut's fraction counts
		{k, cut, false},
		{k, cut.Add(time.Hour), false},
		{token.Key{ID: "a", Secret: []byte("x")}, time.Time{}, false},
		{token.Key{ID: "a", Secret: []byte("x")}, time.Unix(0, 0), false},
	} {
		if got := tc.key.Revokes(tc.iat); got != tc.want {
			t.Errorf("NotBefore %v: Revokes(%v) = %v, want %v", tc.key.NotBefore, tc.iat, got, tc.want)
		}
	}
}
