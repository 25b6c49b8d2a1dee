package vips_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log"

	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// The host starts libvips once (here TestMain does: vips.Startup with a
// zero StartupConfig, and vips.Shutdown at exit), then builds an engine and
// resizes a 640×480 PNG to a 320 pixel wide WebP.
func Example() {
	var src bytes.Buffer
	if err := png.Encode(&src, image.NewGray(image.Rect(0, 0, 640, 480))); err != nil {
		log.Fatal(err)
	}

	engine, err := vips.New(vips.Config{})
	if err != nil {
		log.Fatal(err)
	}
	out, err := engine.Process(context.Background(), transform.Request{
		Source: src.Bytes(),
		Params: &transform.Params{Width: transform.Dim{Value: 320, Set: true}},
		Format: transform.FormatWebP,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%dx%d %s\n", out.Width, out.Height, out.Format)
	// Output: 320x240 webp
}
