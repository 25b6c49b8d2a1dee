package vips_test

import (
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

func TestSmoke(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	out, img := run(t, e, bigPhoto(t), transform.Params{Width: transform.Dim{Value: 300, Set: true}}, transform.FormatJPEG)
	t.Log(out.Width, out.Height, len(out.Data), img.Bounds())
}
