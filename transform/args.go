package transform

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// jsonNumber is what a json.Decoder with UseNumber gives for a number
// (json.Number, the number's text). It is matched by its methods so that
// the package does not link encoding/json, which would make the
// WebAssembly signer 10 KB larger gzipped.
type jsonNumber interface {
	Float64() (float64, error)
	Int64() (int64, error)
	String() string
}

// FromArgs flattens a token's JSON-decoded args object into parameter
// values:
//
//   - strings are kept as they are;
//   - numbers (float64, or json.Number from a decoder with UseNumber, or Go
//     integers) are written in the shortest decimal form without exponent:
//     300, 1.5, -10;
//   - booleans become "true" or "false";
//   - objects are flattened with dots, so {"text": {"size": 20}} is
//     text.size=20; a key that repeats its parent's name stands for the
//     parent itself, so Sirv's {"text": {"text": "Hello", "size": 20}} is
//     text=Hello and text.size=20;
//   - a non-empty array of objects is Sirv's list of layers: element i is
//     flattened under name.i, so {"text": [{"text": "a"}, {"text": "b",
//     "size": 5}]} is text.0.text=a, text.1.text=b and text.1.size=5;
//   - other arrays, null and any other type are errors, as is a name
//     reached in two ways ({"text.size": 10, "text": {"size": 20}}).
//
// Errors are returned together as *Errors. Names are not checked against
// the known set (Merge drops unknown names), and values are not validated
// (Parse does that).
func FromArgs(args map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(args))
	var errs Errors
	flatten("", args, out, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(prefix string, obj map[string]any, out map[string]string, errs *Errors) {
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		name := key
		if prefix != "" {
			name = prefix + "." + key
			if i := strings.LastIndexByte(prefix, '.'); prefix[i+1:] == key {
				name = prefix
			}
		}
		var s string
		switch v := obj[key].(type) {
		case map[string]any:
			flatten(name, v, out, errs)
			continue
		case string:
			s = v
		case bool:
			s = strconv.FormatBool(v)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				errs.add(name, "", "numbers must be finite")
				continue
			}
			s = formatNumber(v)
		case jsonNumber:
			f, err := v.Float64()
			if err != nil || math.IsInf(f, 0) {
				errs.add(name, "", "numbers must be finite")
				continue
			}
			s = formatNumber(f)
		case int:
			s = strconv.Itoa(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		case []any:
			if !layers(v) {
				errs.add(name, "", "arrays are not allowed, except of objects (numbered layers)")
				continue
			}
			for i, layer := range v {
				flatten(name+"."+strconv.Itoa(i), layer.(map[string]any), out, errs)
			}
			continue
		case nil:
			errs.add(name, "", "null is not allowed")
			continue
		default:
			errs.add(name, "", "must be a string, number, boolean or object")
			continue
		}
		if _, dup := out[name]; dup {
			errs.add(name, s, "given more than once")
			continue
		}
		out[name] = s
	}
}

// layers reports a non-empty array whose elements are all objects.
func layers(v []any) bool {
	for _, e := range v {
		if _, ok := e.(map[string]any); !ok {
			return false
		}
	}
	return len(v) > 0
}
