package vips

import (
	"errors"
	"fmt"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// WebPEffort is the libwebp effort (0 fastest … 6 slowest) used for WebP
// output.
const WebPEffort = 4

// saveWebP encodes img as WebP in two steps, because libvips 8.14's
// webpsave leaks its copy of the image (and with it the decoded source)
// when the evaluation fails part-way, which is what a kill does: first the
// pixels are computed into memory while the killer is armed, then the
// memory image, which no kill reaches, is encoded. libwebp's encoder cannot
// be interrupted in libvips 8.14 either way; the output limits bound it.
func (j *job) saveWebP(img *govips.ImageRef, q int) ([]byte, error) {
	j.k.arm(img)
	in := j.k.pointer(img)
	if in == nil {
		return nil, errors.New("webp: no image")
	}
	mem, err := copyMemory(in)
	if err != nil {
		return nil, fmt.Errorf("webp: computing pixels: %w", err)
	}
	defer unref(mem)
	if !j.k.disarm() {
		// The context ended while the pixels were computed.
		return nil, errKilled
	}
	data, err := webpSave(mem, q, WebPEffort)
	if err != nil {
		return nil, fmt.Errorf("webp: encoding: %w", err)
	}
	return data, nil
}
