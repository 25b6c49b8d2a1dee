package token

// Result is the outcome of authorising one request. Every request gets
// exactly one Result: it decides the HTTP status, the text of the
// X-Keyhole-Auth-Result header and the "result" label of the
// keyhole_auth_results_total counter, all from the one table below.
//
// A Result is also an error, so internal errors wrap it
// (fmt.Errorf("%w: %w", token.ResultExpired, cause)) and callers recover it
// with errors.Is or errors.As; only Result.String reaches a client.
type Result uint8

// The closed set of results (docs/behaviour.md, Results).
const (
	ResultPublic              Result = iota // no protection applies
	ResultOK                                // a valid token or credentials
	ResultMissingToken                      // no token in query, header or cookie
	ResultMalformedToken                    // not three base64url parts, or a bad header
	ResultAlgorithmNotAllowed               // alg is not HS256
	ResultUnknownKey                        // kid names no configured key
	ResultSignatureMismatch                 // HMAC does not verify with any key
	ResultExpired                           // past exp + leeway
	ResultNotYetValid                       // before nbf - leeway
	ResultInvalidPayload                    // claims JSON bad, exp/aud missing or ill-typed, args not an object
	ResultAudienceMismatch                  // the path starts with no aud entry
	ResultCredentialsRequired               // basic protection, no credentials
	ResultCredentialsInvalid                // basic protection, wrong login or password
	ResultCredentialsExpired                // basic protection, login past its expiry
	ResultReferrerDenied                    // Referer not allowed by the protection
	ResultUnprotectedDenied                 // no protection applies and the handler denies unprotected paths
	ResultBadPath                           // the path breaks the path rules; refused before any protection is matched
	ResultMethodNotAllowed                  // not GET or HEAD; refused before any protection is matched
	ResultLoginsBusy                        // basic protection, every bcrypt slot busy: 429 with Retry-After, credentials not checked
	ResultRevoked                           // the token's iat is before its key's NotBefore, or it has no iat while NotBefore is set
	numResults
)

var resultTable = [numResults]struct {
	text   string
	status int // 0: the request continues
}{
	ResultPublic:              {"public", 0},
	ResultOK:                  {"ok", 0},
	ResultMissingToken:        {"missing token", 403},
	ResultMalformedToken:      {"malformed token", 403},
	ResultAlgorithmNotAllowed: {"algorithm not allowed", 403},
	ResultUnknownKey:          {"unknown key", 403},
	ResultSignatureMismatch:   {"signature mismatch", 403},
	ResultExpired:             {"expired key", 403},
	ResultNotYetValid:         {"not yet valid", 403},
	ResultInvalidPayload:      {"invalid payload", 403},
	ResultAudienceMismatch:    {"audience mismatch", 403},
	ResultCredentialsRequired: {"credentials required", 401},
	ResultCredentialsInvalid:  {"credentials invalid", 401},
	ResultCredentialsExpired:  {"credentials expired", 401},
	ResultReferrerDenied:      {"referrer denied", 403},
	ResultUnprotectedDenied:   {"unprotected path denied", 403},
	ResultBadPath:             {"bad path", 400},
	ResultMethodNotAllowed:    {"method not allowed", 405},
	ResultLoginsBusy:          {"too many login attempts", 429},
	ResultRevoked:             {"revoked token", 403},
}

// String returns the result's public text, e.g. "expired key". It is safe
// to send to clients and to use as a metric label.
func (r Result) String() string {
	if r >= numResults {
		return "invalid result"
	}
	return resultTable[r].text
}

// Error makes a Result usable as an error; it returns String.
func (r Result) Error() string { return r.String() }

// Status returns the HTTP status a refused request gets (400, 401, 403,
// 405 or 429), or 0
// when the request continues (public, ok).
func (r Result) Status() int {
	if r >= numResults {
		return 500
	}
	return resultTable[r].status
}

// Allowed reports whether the request may continue.
func (r Result) Allowed() bool { return r == ResultOK || r == ResultPublic }

// Results lists every Result in table order, for pre-creating metric labels
// and for exhaustive tests.
func Results() []Result {
	all := make([]Result, numResults)
	for i := range all {
		all[i] = Result(i)
	}
	return all
}

// ParseResult returns the Result whose text is s.
func ParseResult(s string) (Result, bool) {
	for i, row := range resultTable {
		if row.text == s {
			return Result(i), true
		}
	}
	return 0, false
}
