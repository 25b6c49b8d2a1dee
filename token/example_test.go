package token_test

import (
	"fmt"
	"net/url"
	"time"

	"github.com/keyhole-dev/keyhole/token"
)

func ExampleSigner_Sign() {
	s, err := token.NewSigner(token.KeyFromString("", "topsecret"))
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	c := token.ForPath("/example-image.jpg", now, 5*time.Minute)
	c.Args = map[string]any{"text": "Hello"}
	tok, err := s.Sign(c)
	if err != nil {
		panic(err)
	}
	// The same claims and key always give the same token.
	fmt.Println(tok)
	d, _ := token.Decode(tok)
	fmt.Println(d.Claims.Audience, d.Claims.ExpiresAt.UTC(), d.Claims.Args["text"])
	// Output:
	// eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiIvZXhhbXBsZS1pbWFnZS5qcGciLCJleHAiOjE3NDA4MzA3MDAsImlhdCI6MTc0MDgzMDQwMCwiYXJncyI6eyJ0ZXh0IjoiSGVsbG8ifX0.fHPubJIZAGnTmXLTMiLStKLXEaZCTaL0khoj7P9GUKA
	// [/example-image.jpg] 2025-03-01 12:05:00 +0000 UTC Hello
}

func ExampleAudienceAllows() {
	for _, p := range []string{"/path/to/x.jpg", "/path/t1/y.jpg", "/path/x.jpg"} {
		fmt.Println(p, token.AudienceAllows([]string{"/path/t"}, p))
	}
	fmt.Println(token.AudienceAllows([]string{"/path/to/"}, "/path/to/a.jpg"))
	fmt.Println(token.AudienceAllows([]string{"/path/to/file.jpg"}, "/path/to/other.jpg"))
	fmt.Println(token.AudienceAllows([]string{"/"}, "/anything/at/all.png"))
	// Output:
	// /path/to/x.jpg true
	// /path/t1/y.jpg true
	// /path/x.jpg false
	// true
	// false
	// true
}

func ExampleBuildURL() {
	u := token.BuildURL("/my photos/example-image.jpg", "eyJ...sig", token.URLOptions{
		BaseURL: "https://img.example.com/",
		Query:   url.Values{"w": {"10%"}, "h": {"25%"}},
	})
	fmt.Println(u)
	// Output:
	// https://img.example.com/my%20photos/example-image.jpg?h=25%25&w=10%25&jwt=eyJ...sig
}

func ExampleDecode() {
	// A token as npm jsonwebtoken makes it in Sirv's example script.
	tok := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." +
		"eyJhcmdzIjp7InRleHQiOiJIZWxsbyJ9LCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDMwMCwiYXVkIjoiL2V4YW1wbGUtaW1hZ2UuanBnIn0." +
		"r619FPD_b1fVLuyS9j2FO53-AT8KH4KV5gtbWt3n18Q"
	// Decode does not check the signature: inspect with it, never authorise.
	d, err := token.Decode(tok)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%+v\n", d.Header)
	fmt.Println(string(d.Payload))
	fmt.Println(d.Claims.Audience, d.Claims.ExpiresAt.UTC(), d.Claims.Args)
	// Output:
	// {Alg:HS256 KeyID: Typ:JWT}
	// {"args":{"text":"Hello"},"iat":1700000000,"exp":1700000300,"aud":"/example-image.jpg"}
	// [/example-image.jpg] 2023-11-14 22:18:20 +0000 UTC map[text:Hello]
}

// ExampleCleanPath shows which request paths the server and the signers
// accept.
func ExampleCleanPath() {
	for _, p := range []string{"/a/b.jpg", "a.jpg", "/a/../b.jpg", "/a//b.jpg", `/a\b.jpg`, "/a:b.jpg"} {
		clean, err := token.CleanPath(p, token.DefaultMaxPathBytes)
		fmt.Printf("%-13q %q %v\n", p, clean, err)
	}
	// Output:
	// "/a/b.jpg"    "/a/b.jpg" <nil>
	// "a.jpg"       "/a.jpg" <nil>
	// "/a/../b.jpg" "" bad path: has a . or .. segment
	// "/a//b.jpg"   "" bad path: has an empty segment (// or a trailing /)
	// "/a\\b.jpg"   "" bad path: contains a backslash
	// "/a:b.jpg"    "" bad path: contains a colon
}
