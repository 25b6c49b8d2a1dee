package transform_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

// paramCase is one entry of testdata/params_cases.json, the table shared
// with the WebAssembly signer's tests: Parse under DefaultLimits must accept
// the params exactly when valid is true, and otherwise reject exactly the
// names in errors.
type paramCase struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params"`
	Valid  bool              `json:"valid"`
	Errors []string          `json:"errors"`
}

func loadCases(t testing.TB) []paramCase {
	t.Helper()
	data, err := os.ReadFile("testdata/params_cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []paramCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestParamsCases(t *testing.T) {
	cases := loadCases(t)
	groups := map[string]bool{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			p, err := transform.Parse(c.Params, transform.DefaultLimits())
			if c.Valid {
				if err != nil || p == nil {
					t.Fatalf("Parse: %v", err)
				}
				again, err := transform.Parse(fromCanonical(t, transform.Canonical(c.Params)), transform.DefaultLimits())
				if err != nil || !reflect.DeepEqual(again, p) {
					t.Errorf("canonical form parses to %+v, %v; want %+v", again, err, p)
				}
				return
			}
			var errs *transform.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse error = %v, want *Errors", err)
			}
			want := slices.Sorted(slices.Values(c.Errors))
			if got := errs.Names(); !slices.Equal(got, want) {
				t.Errorf("failing names = %v, want %v", got, want)
			}
		})
		for name := range c.Params {
			for _, d := range transform.Definitions() {
				if d.Name == name {
					groups[d.Group+"/"+map[bool]string{true: "valid", false: "invalid"}[c.Valid]] = true
				}
			}
		}
	}
	for _, d := range transform.Definitions() {
		for _, v := range []string{"valid", "invalid"} {
			if !groups[d.Group+"/"+v] {
				t.Errorf("no %s case for group %s", v, d.Group)
			}
		}
	}
}
