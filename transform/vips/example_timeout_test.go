package vips_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// A transform that would run for tens of seconds (an 8192×8192 blur of a
// small image, let through here by lifting the work budget) is stopped
// inside libvips when Limits.Timeout passes; the error wraps
// context.DeadlineExceeded. Cancelling the context stops it the same way,
// with context.Canceled.
func ExampleEngine_Process_timeout() {
	var src bytes.Buffer
	if err := png.Encode(&src, image.NewGray(image.Rect(0, 0, 64, 64))); err != nil {
		log.Fatal(err)
	}
	engine, err := vips.New(vips.Config{Limits: transform.Limits{
		Timeout: time.Second,
		MaxWork: 1 << 62,
	}})
	if err != nil {
		log.Fatal(err)
	}
	px := func(v float64) transform.Dim { return transform.Dim{Value: v, Set: true} }
	start := time.Now()
	_, err = engine.Process(context.Background(), transform.Request{
		Source: src.Bytes(),
		Params: &transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore", Blur: 100},
		Format: transform.FormatPNG,
	})
	fmt.Println(errors.Is(err, context.DeadlineExceeded), time.Since(start) < 4*time.Second)
	// Output: true true
}
