package token_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/keyhole-dev/keyhole/token"
)

// FuzzParseClaims checks that ParseClaims never panics, that every failure
// is exactly ResultInvalidPayload, and that it agrees with claimsValid, an
// independent statement of the rules on top of a generic encoding/json
// decode.
func FuzzParseClaims(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		c, err := token.ParseClaims(payload)
		want := claimsValid(payload)
		if err != nil {
			if c != nil {
				t.Fatalf("claims and error: %+v, %v", c, err)
			}
			var r token.Result
			if !errors.As(err, &r) || r != token.ResultInvalidPayload {
				t.Fatalf("error %q is not invalid payload", err)
			}
			if want {
				t.Fatalf("ParseClaims(%q) refused a valid payload: %v", payload, err)
			}
			return
		}
		if !want {
			t.Fatalf("ParseClaims(%q) accepted an invalid payload: %+v", payload, *c)
		}
		if len(c.Audience) == 0 || c.ExpiresAt.IsZero() {
			t.Fatalf("accepted without aud/exp: %+v", *c)
		}
		// The values must be those encoding/json decodes.
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(payload, &raw); err != nil {
			t.Fatalf("encoding/json refuses what ParseClaims accepted: %v", err)
		}
		m := map[string]any{}
		for _, name := range []string{"aud", "args"} {
			if v, ok := raw[name]; ok {
				var x any
				if err := json.Unmarshal(v, &x); err != nil {
					t.Fatalf("encoding/json refuses %s: %v", name, err)
				}
				m[name] = x
			}
		}
		var aud []string
		switch a := m["aud"].(type) {
		case string:
			aud = []string{a}
		case []any:
			for _, e := range a {
				aud = append(aud, e.(string))
			}
		}
		if !reflect.DeepEqual(c.Audience, aud) {
			t.Fatalf("aud = %q, encoding/json says %q", c.Audience, aud)
		}
		if args, _ := m["args"].(map[string]any); !reflect.DeepEqual(c.Args, args) {
			t.Fatalf("args = %#v, encoding/json says %#v", c.Args, args)
		}
	})
}

// claimsValid restates ParseClaims' rules: a JSON object; exp required and
// a number in [0, 2^40]; nbf and iat, when present, the same; aud required,
// a string or a non-empty array of strings; args, when present, an object
// whose numbers all fit a float64. Names are case-sensitive; the last of
// duplicate names wins.
func claimsValid(p []byte) bool {
	d := json.NewDecoder(bytes.NewReader(p))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return false
	}
	if len(bytes.TrimSpace(p[d.InputOffset():])) != 0 {
		return false // trailing data
	}
	if t := bytes.TrimSpace(p); len(t) == 0 || t[0] != '{' {
		return false
	}
	date := func(name string, required bool) bool {
		v, ok := m[name]
		if !ok {
			return !required
		}
		n, isNum := v.(json.Number)
		if !isNum {
			return false
		}
		f, err := strconv.ParseFloat(string(n), 64)
		return err == nil && f >= 0 && f <= 1<<40
	}
	if !date("exp", true) || !date("nbf", false) || !date("iat", false) {
		return false
	}
	switch aud := m["aud"].(type) {
	case string:
	case []any:
		if len(aud) == 0 {
			return false
		}
		for _, a := range aud {
			if _, ok := a.(string); !ok {
				return false
			}
		}
	default:
		return false
	}
	if args, ok := m["args"]; ok {
		obj, isObj := args.(map[string]any)
		if !isObj || !numbersFit(obj) {
			return false
		}
	}
	return true
}

func numbersFit(v any) bool {
	switch v := v.(type) {
	case json.Number:
		_, err := strconv.ParseFloat(string(v), 64)
		return err == nil
	case map[string]any:
		for _, e := range v {
			if !numbersFit(e) {
				return false
			}
		}
	case []any:
		for _, e := range v {
			if !numbersFit(e) {
				return false
			}
		}
	}
	return true
}
