package vips

import (
	"errors"
	"fmt"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// WebPEffort is the libwebp effort (0 fastest … 6 slowest) used for WebP
// output.
const WebPEffort = 4

// saveWebP encodes img as WebP with libwebp directly (see webpSave) rather
// than through govips and libvips' webpsave, which in libvips 8.14 leaks
// its copy of the image (the decoded source included) when a kill stops
// it, cannot stop libwebp's encoder, often the larger half of the work (an
// 8192×8192 canvas spends seconds in libwebp after its pixels are ready),
// and writes an EXIF chunk even when told to strip metadata. Here a kill
// stops both steps, and the image data is the same as webpsave's.
func (j *job) saveWebP(img *govips.ImageRef, q int) ([]byte, error) {
	j.k.arm(img)
	in := j.k.pointer(img)
	if in == nil {
		return nil, errors.New("webp: no image")
	}
	data, err := webpSave(in, q, WebPEffort)
	if err != nil {
		return nil, fmt.Errorf("webp: %w", err)
	}
	return data, nil
}
