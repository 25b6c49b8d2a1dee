package handler_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"testing/fstest"
	"time"

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/token"
)

// ExampleHandler_Reload rotates a key without a restart: the new key is
// added beside the old one, then the old one is removed.
func ExampleHandler_Reload() {
	oldKey := token.KeyFromString("2026-11", "the-old-secret-of-at-least-32-bytes")
	newKey := token.KeyFromString("2026-12", "the-new-secret-of-at-least-32-bytes")
	cfg := handler.Config{
		Files:       fstest.MapFS{"private/a.txt": {Data: []byte("a\n")}},
		Protections: []handler.Protection{{Path: "/private/", Keys: []token.Key{oldKey}}},
	}
	h, err := handler.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	get := func(k token.Key) string {
		tok, _ := token.Sign(k, token.ForPath("/private/a.txt", time.Now(), time.Minute))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/private/a.txt?jwt="+tok, nil))
		return rec.Header().Get("X-Keyhole-Auth-Result")
	}
	cfg.Protections = []handler.Protection{{Path: "/private/", Keys: []token.Key{oldKey, newKey}}}
	if err := h.Reload(cfg); err != nil {
		log.Fatal(err)
	}
	fmt.Println("both keys:", get(oldKey), "/", get(newKey))
	cfg.Protections = []handler.Protection{{Path: "/private/", Keys: []token.Key{newKey}}}
	if err := h.Reload(cfg); err != nil {
		log.Fatal(err)
	}
	fmt.Println("new key only:", get(oldKey), "/", get(newKey))
	// Output:
	// both keys: ok / ok
	// new key only: unknown key / ok
}

// ExampleHandler_Close stops a handler before the host shuts libvips
// down: Close returns once no transform runs.
func ExampleHandler_Close() {
	h, err := handler.New(handler.Config{Files: fstest.MapFS{"a.txt": {Data: []byte("a\n")}}})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := h.Close(ctx); err != nil {
		log.Fatal("transforms still running; do not call vips.Shutdown: ", err)
	}
	fmt.Println("closed; now vips.Shutdown() is safe")
	// Output: closed; now vips.Shutdown() is safe
}

// ExampleRedactURL logs a request URL without its working token.
func ExampleRedactURL() {
	u, _ := url.Parse("/img/private/a.jpg?w=300&jwt=eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIvIn0.c2ln")
	fmt.Println(handler.RedactURL(u, "jwt"))
	// Output: /img/private/a.jpg?w=300&jwt=sha256:599a1635bfa3
}
