//go:build js && wasm

package main

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// abiStamp carries the version of the request/answer encoding between this
// module and the JavaScript half of the boundary (ABI in core.js), after a
// fixed prefix so the text can be found in the built module. Change both
// together whenever the encoding, the exports or their arguments change:
// load() refuses a module whose version differs from its own, so a
// keyhole.wasm and a core.js from different builds fail loudly instead of
// decoding each other wrongly. test/abi.test.mjs checks that the two agree.
var abiStamp = "keyhole-abi-version:0002"

// abiVersion returns the number at the end of abiStamp.
func abiVersion() uint32 {
	n, err := strconv.ParseUint(abiStamp[len(abiStamp)-4:], 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

// Error codes, set as the .code of the JavaScript Error (see index.d.ts).
const (
	codeBadInput      = "ERR_KEYHOLE_BAD_INPUT"
	codeBadKey        = "ERR_KEYHOLE_BAD_KEY"
	codeBadPath       = "ERR_KEYHOLE_BAD_PATH"
	codeInvalidParams = "ERR_KEYHOLE_INVALID_PARAMS"
	codeBadToken      = "ERR_KEYHOLE_BAD_TOKEN"
	codeInternal      = "ERR_KEYHOLE_INTERNAL"
)

// apiError is an error as JavaScript sees it. index is the position of the
// failing item in a signMany batch (-1 otherwise); detail is extra data for
// the Error object: the JSON list of parameter errors for
// ERR_KEYHOLE_INVALID_PARAMS, the auth result text for ERR_KEYHOLE_BAD_TOKEN.
type apiError struct {
	code   string
	index  int
	msg    string
	detail string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// badInput returns an ERR_KEYHOLE_BAD_INPUT error.
func badInput(msg string) error { return &apiError{code: codeBadInput, index: -1, msg: msg} }

// as is errors.As for a target type T, without reflection: the first
// error in err's tree (err, then what Unwrap returns, depth first) that is
// a T or whose As method accepts a *T. errors.As checks assignability
// with internal/reflectlite, which the signer would link for nothing else:
// with it, the module kept reflectlite's type walks and the method tables
// they read, 15 KB of its gzipped size.
func as[T error](err error) (T, bool) {
	var t T
	for err != nil {
		if e, ok := err.(T); ok {
			return e, true
		}
		if x, ok := err.(interface{ As(any) bool }); ok && x.As(&t) {
			return t, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if t, ok := as[T](e); ok {
					return t, true
				}
			}
			return t, false
		default:
			return t, false
		}
	}
	return t, false
}

// fail replaces the answer with err encoded as "code\nindex\nmessage\ndetail"
// and returns minus its length. Errors that are not *apiError (there should
// be none) become ERR_KEYHOLE_INTERNAL.
func fail(err error) int32 {
	e, ok := as[*apiError](err)
	if !ok {
		e = &apiError{code: codeInternal, index: -1, msg: "internal error: " + err.Error()}
	}
	out = append(out[:0], e.code...)
	out = append(out, '\n')
	if e.index >= 0 {
		out = strconv.AppendInt(out, int64(e.index), 10)
	}
	out = append(out, '\n')
	out = append(out, strings.ReplaceAll(e.msg, "\n", "; ")...)
	out = append(out, '\n')
	out = append(out, e.detail...)
	return -int32(len(out))
}

// errMalformed reports a request that does not follow the encoding; only a
// bug in the JavaScript loader, or a caller writing the buffers by hand,
// produces one.
var errMalformed = badInput("malformed request")

// reader decodes a request written by the JavaScript encoder (index.js,
// class Encoder). All integers are little-endian:
//
//	u32     4 bytes
//	f64     8 bytes, IEEE 754; NaN means "not given"
//	str     u32 byte length, then UTF-8 bytes
//	value   one tag byte, then:
//	          's' str   'n' f64   't' (true)   'f' (false)   'z' (null)
//	          'o' u32 count, then count × (str key, value)
//	          'a' u32 count, then count × value
//	          '-' (absent)
//
// Reading past the end sets bad and returns zero values, so a truncated or
// garbage request is an error, never a panic or a huge allocation.
type reader struct {
	b   []byte
	off int
	bad bool
}

// maxValueDepth bounds the nesting of decoded values. token refuses args
// nested deeper than 8 anyway.
const maxValueDepth = 16

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b)-r.off {
		r.bad = true
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u32() uint32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// count reads a u32 element count; each element takes at least min bytes,
// so a count the rest of the request cannot hold is malformed.
func (r *reader) count(min int) int {
	n := int(r.u32())
	if n > (len(r.b)-r.off)/min {
		r.bad = true
		return 0
	}
	return n
}

func (r *reader) f64() float64 {
	p := r.take(8)
	if p == nil {
		return math.NaN()
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

func (r *reader) bytes() []byte { return r.take(int(r.u32())) }

func (r *reader) str() string { return string(r.bytes()) }

// value decodes one tagged value into what encoding/json would produce for
// the same JSON: string, float64, bool, nil, map[string]any or []any. absent
// reports the '-' tag.
func (r *reader) value(depth int) (v any, absent bool) {
	if depth > maxValueDepth {
		r.bad = true
		return nil, false
	}
	tag := r.take(1)
	if tag == nil {
		return nil, false
	}
	switch tag[0] {
	case 's':
		return r.str(), false
	case 'n':
		return r.f64(), false
	case 't':
		return true, false
	case 'f':
		return false, false
	case 'z':
		return nil, false
	case 'o':
		n := r.count(5)
		m := make(map[string]any, n)
		for range n {
			k := r.str()
			m[k], _ = r.value(depth + 1)
		}
		return m, false
	case 'a':
		n := r.count(1)
		a := make([]any, n)
		for i := range a {
			a[i], _ = r.value(depth + 1)
		}
		return a, false
	case '-':
		return nil, true
	}
	r.bad = true
	return nil, false
}

// skipValue advances past one tagged value without building it and
// reports whether it was the '-' (absent) tag. It applies the same limits
// as value.
func (r *reader) skipValue(depth int) (absent bool) {
	if depth > maxValueDepth {
		r.bad = true
		return false
	}
	tag := r.take(1)
	if tag == nil {
		return false
	}
	switch tag[0] {
	case 's':
		r.bytes()
	case 'n':
		r.take(8)
	case 't', 'f', 'z':
	case 'o':
		for range r.count(5) {
			r.bytes()
			r.skipValue(depth + 1)
		}
	case 'a':
		for range r.count(1) {
			r.skipValue(depth + 1)
		}
	case '-':
		return true
	default:
		r.bad = true
	}
	return false
}

// pairs decodes a u32 count of (str name, str value) pairs into a map,
// keeping the first value of a repeated name as url.Values.Get does.
func (r *reader) pairs() map[string]string {
	n := r.count(8)
	m := make(map[string]string, n)
	for range n {
		k, v := r.str(), r.str()
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

// done reports errMalformed when the request was short or has bytes left.
func (r *reader) done() error {
	if r.bad || r.off != len(r.b) {
		return errMalformed
	}
	return nil
}
