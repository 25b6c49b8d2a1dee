package token_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
)

// The public text and status of every result, as docs/behaviour.md lists them
// (plus the request outcomes refused before authorisation). A
// change here changes the X-Keyhole-Auth-Result header and metric labels.
var wantResults = []struct {
	r      token.Result
	text   string
	status int
}{
	{token.ResultPublic, "public", 0},
	{token.ResultOK, "ok", 0},
	{token.ResultMissingToken, "missing token", 403},
	{token.ResultMalformedToken, "malformed token", 403},
	{token.ResultAlgorithmNotAllowed, "algorithm not allowed", 403},
	{token.ResultUnknownKey, "unknown key", 403},
	{token.ResultSignatureMismatch, "signature mismatch", 403},
	{token.ResultExpired, "expired key", 403},
	{token.ResultNotYetValid, "not yet valid", 403},
	{token.ResultInvalidPayload, "invalid payload", 403},
	{token.ResultAudienceMismatch, "audience mismatch", 403},
	{token.ResultCredentialsRequired, "credentials required", 401},
	{token.ResultCredentialsInvalid, "credentials invalid", 401},
	{token.ResultCredentialsExpired, "credentials expired", 401},
	{token.ResultReferrerDenied, "referrer denied", 403},
	{token.ResultUnprotectedDenied, "unprotected path denied", 403},
	{token.ResultBadPath, "bad path", 400},
	{token.ResultMethodNotAllowed, "method not allowed", 405},
	{token.ResultLoginsBusy, "too many login attempts", 429},
	{token.ResultRevoked, "revoked token", 403},
}

func TestResultTable(t *testing.T) {
	all := token.Results()
	if len(all) != len(wantResults) {
		t.Fatalf("Results() has %d entries, the spec table %d", len(all), len(wantResults))
	}
	seen := map[string]token.Result{}
	for i, r := range all {
		want := wantResults[i]
		t.Run(want.text, func(t *testing.T) {
			if r != want.r {
				t.Fatalf("Results()[%d] = %d, want %d", i, r, want.r)
			}
			s := r.String()
			if s != want.text {
				t.Errorf("String() = %q, want %q", s, want.text)
			}
			if s == "" {
				t.Error("empty String()")
			}
			if prev, dup := seen[s]; dup {
				t.Errorf("String() %q shared with %d", s, prev)
			}
			seen[s] = r
			if r.Error() != s {
				t.Errorf("Error() = %q, want String() %q", r.Error(), s)
			}
			if got := r.Status(); got != want.status {
				t.Errorf("Status() = %d, want %d", got, want.status)
			}
			if got, want := r.Allowed(), want.status == 0; got != want {
				t.Errorf("Allowed() = %v, want %v", got, want)
			}
			back, ok := token.ParseResult(s)
			if !ok || back != r {
				t.Errorf("ParseResult(%q) = %d, %v; want %d, true", s, back, ok, r)
			}
		})
	}
}

// TestResultStatusRule states the rule independently of the table: 0 only
// for public and ok, 401 only for the credentials results, 400 and 405 for
// the two refusals made before any protection is matched, 403 otherwise.
func TestResultStatusRule(t *testing.T) {
	for _, r := range token.Results() {
		var want int
		switch r {
		case token.ResultPublic, token.ResultOK:
			want = 0
		case token.ResultCredentialsRequired, token.ResultCredentialsInvalid, token.ResultCredentialsExpired:
			want = 401
		case token.ResultBadPath:
			want = 400
		case token.ResultMethodNotAllowed:
			want = 405
		case token.ResultLoginsBusy:
			want = 429
		default:
			want = 403
		}
		if got := r.Status(); got != want {
			t.Errorf("%v.Status() = %d, want %d", r, got, want)
		}
	}
}

func TestResultOutOfRange(t *testing.T) {
	bad := token.Result(len(token.Results()))
	for _, r := range []token.Result{bad, 255} {
		if got := r.String(); got != "invalid result" {
			t.Errorf("Result(%d).String() = %q", r, got)
		}
		if got := r.Status(); got != 500 {
			t.Errorf("Result(%d).Status() = %d, want 500", r, got)
		}
		if r.Allowed() {
			t.Errorf("Result(%d).Allowed() = true", r)
		}
	}
	for _, s := range []string{"", "invalid result", "OK", "Expired Key", "expired", " ok"} {
		if r, ok := token.ParseResult(s); ok {
			t.Errorf("ParseResult(%q) = %v, true; want false", s, r)
		}
	}
}

func TestResultWrapping(t *testing.T) {
	cause := errors.New("exp 1700000000 < now")
	for _, r := range token.Results() {
		t.Run(r.String(), func(t *testing.T) {
			wrapped := []error{
				r,
				fmt.Errorf("verify: %w", r),
				fmt.Errorf("%w: %w", r, cause),
				fmt.Errorf("outer: %w", fmt.Errorf("%w: %w", r, cause)),
				errors.Join(cause, r),
			}
			for _, err := range wrapped {
				if !errors.Is(err, r) {
					t.Errorf("errors.Is(%q, %v) = false", err, r)
				}
				var got token.Result
				if !errors.As(err, &got) || got != r {
					t.Errorf("errors.As(%q) = %v, want %v", err, got, r)
				}
				for _, other := range token.Results() {
					if other != r && errors.Is(err, other) {
						t.Errorf("errors.Is(%q, %v) = true", err, other)
					}
				}
			}
		})
	}
}
