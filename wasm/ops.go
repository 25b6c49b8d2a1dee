//go:build js && wasm

package main

import (
	"encoding/base64"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform"
)

// limits are the limits the server uses unless configured otherwise.
var limits = transform.DefaultLimits()

// validate decodes a u32 count of (str name, str value) pairs, the first
// value of a repeated name winning as on the server, and checks them with
// transform.Parse under the default limits. The answer is the JSON list of
// {"name","value","reason"} objects a server's 400 response would hold, or
// "[]" when the parameters are valid.
func validate(r *reader) error {
	values := r.pairs()
	if err := r.done(); err != nil {
		return err
	}
	_, err := transform.Parse(values, limits)
	var list []transform.ParamError
	if err != nil {
		errs, ok := as[*transform.Errors](err)
		if !ok {
			return err
		}
		list = errs.List
	}
	out = appendParamErrors(out, list)
	return nil
}

// paramsError turns a *transform.Errors into ERR_KEYHOLE_INVALID_PARAMS
// whose detail is the JSON list of parameter errors. what names the input
// ("args") in the message.
func paramsError(what string, err error) error {
	errs, ok := as[*transform.Errors](err)
	if !ok {
		return err
	}
	detail := string(appendParamErrors(nil, errs.List))
	return &apiError{code: codeInvalidParams, index: -1, msg: what + ": " + errs.Error(), detail: detail}
}

// decode decodes a str token with token.Decode and answers
// {"header":…,"payload":…} holding the header and claims JSON exactly as
// they are in the token. A token the server could not even parse is
// ERR_KEYHOLE_BAD_TOKEN whose detail is the server's auth result ("malformed
// token", "algorithm not allowed" for any alg but HS256, "none" included,
// "invalid payload").
func decode(r *reader) error {
	tok := r.str()
	if err := r.done(); err != nil {
		return err
	}
	d, err := token.Decode(tok)
	if d != nil && d.Header.Alg != "HS256" {
		// The server checks the algorithm before the claims and accepts
		// HS256 only: a token with "alg":"none" (or HS512, RS256) is
		// refused, not shown as if it were one.
		err = token.ResultAlgorithmNotAllowed
	}
	if err != nil {
		res, ok := as[token.Result](err)
		if !ok {
			res = token.ResultMalformedToken
		}
		return &apiError{code: codeBadToken, index: -1, msg: "the server would refuse this token: " + res.String(), detail: res.String()}
	}
	h, _, _, _ := token.Split(tok)
	header, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return &apiError{code: codeBadToken, index: -1, msg: "malformed token", detail: token.ResultMalformedToken.String()}
	}
	out = append(out, `{"header":`...)
	out = append(out, header...)
	out = append(out, `,"payload":`...)
	out = append(out, d.Payload...)
	out = append(out, '}')
	return nil
}

// appendParamErrors appends list as a JSON array of
// {"name","value","reason"} objects, the encoding of transform.ParamError.
// It is written by hand so the module does not link the reflection-based
// JSON encoder.
func appendParamErrors(b []byte, list []transform.ParamError) []byte {
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, e.Name)
		b = append(b, `,"value":`...)
		b = appendJSONString(b, e.Value)
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, e.Reason)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as with encoding/json.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
