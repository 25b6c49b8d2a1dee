package vips

/*
#cgo pkg-config: vips
#include <stdlib.h>
#include <vips/vips.h>

static void keyhole_ref(VipsImage *im) { g_object_ref(im); }
static void keyhole_unref(VipsImage *im) { g_object_unref(im); }
static void keyhole_kill(VipsImage *im) { vips_image_set_kill(im, TRUE); }
static VipsImage *keyhole_copy_memory(VipsImage *in) { return vips_image_copy_memory(in); }

static int keyhole_webpsave(VipsImage *mem, int q, int effort, void **buf, size_t *len) {
	return vips_webpsave_buffer(mem, buf, len,
		"strip", TRUE,
		"Q", q,
		"effort", effort,
		"lossless", FALSE,
		"near_lossless", FALSE,
		"min_size", FALSE,
		"profile", "none",
		NULL);
}

static void keyhole_free(void *p) { g_free(p); }
*/
import "C"

import (
	"errors"
	"strings"
	"unsafe"
)

// The few libvips calls that govips does not offer. No Go pointer is passed
// to C, and C keeps none: images are referenced and released explicitly,
// and encoded buffers are copied into Go memory and freed at once.

// vipsImage is libvips' VipsImage.
type vipsImage = C.VipsImage

// sizeofVipsImage is the size of VipsImage in the headers this package is
// compiled against.
const sizeofVipsImage = unsafe.Sizeof(C.VipsImage{})

// ref takes a GObject reference on im.
func ref(im *vipsImage) { C.keyhole_ref(im) }

// unref releases a reference taken by ref or returned by libvips.
func unref(im *vipsImage) { C.keyhole_unref(im) }

// setKill sets im's kill flag: the next strip requested from im fails.
// libvips reads the flag from its worker threads without a lock, by design.
func setKill(im *vipsImage) { C.keyhole_kill(im) }

// copyMemory computes in into a new memory image (or returns in with a new
// reference if it is already in memory). Release the result with unref.
func copyMemory(in *vipsImage) (*vipsImage, error) {
	mem := C.keyhole_copy_memory(in)
	if mem == nil {
		return nil, vipsError()
	}
	return mem, nil
}

// webpSave encodes mem as lossy WebP at quality q and the given libwebp
// effort, with every metadata item stripped.
func webpSave(mem *vipsImage, q, effort int) ([]byte, error) {
	var (
		buf unsafe.Pointer
		n   C.size_t
	)
	if C.keyhole_webpsave(mem, C.int(q), C.int(effort), &buf, &n) != 0 {
		return nil, vipsError()
	}
	defer C.keyhole_free(buf)
	return C.GoBytes(buf, C.int(n)), nil
}

// vipsError returns libvips' error text and clears its error buffer, so
// the text cannot turn up in a later error.
func vipsError() error {
	s := strings.TrimSpace(C.GoString(C.vips_error_buffer()))
	C.vips_error_clear()
	if s == "" {
		s = "libvips failed without a message"
	}
	return errors.New(s)
}
