package vips

/*
#cgo pkg-config: vips libwebp
#include <stdlib.h>
#include <vips/vips.h>
#include <webp/encode.h>

static void keyhole_ref(VipsImage *im) { g_object_ref(im); }
static void keyhole_unref(VipsImage *im) { g_object_unref(im); }
static void keyhole_kill(VipsImage *im) { vips_image_set_kill(im, TRUE); }

// keyhole_orc reports whether this libvips runs the Orc code paths
// (libvips before 8.15 compiles Orc programs for some operations; 8.15
// moved to Highway).
static int keyhole_orc(void) {
	return VIPS_MAJOR_VERSION == 8 && VIPS_MINOR_VERSION < 15;
}

// keyhole_arena_max is glibc's M_ARENA_MAX as this package set it at
// load time (see arenas.c): 0 when it set none, -1 without glibc.
int keyhole_arena_max(void);

// orclock.c: libvips' Orc compiles and frees under one mutex.
long keyhole_orc_wrapped(void);
int keyhole_orc_resolved(void);

// vips_vector_set_enabled and vips_vector_isenabled are declared in
// <vips/vector.h>, which <vips/vips.h> leaves out in libvips 8.14.
void vips_vector_set_enabled(gboolean enabled);
gboolean vips_vector_isenabled(void);

// keyhole_webp_progress is libwebp's progress hook: returning 0 aborts the
// encoder. user_data is the image the killer arms.
static int keyhole_webp_progress(int percent, const WebPPicture *pic) {
	VipsImage *im = (VipsImage *) pic->user_data;
	return !__atomic_load_n(&im->kill, __ATOMIC_RELAXED);
}

enum { KEYHOLE_OK = 0, KEYHOLE_VIPS_ERROR = -1, KEYHOLE_KILLED = -2, KEYHOLE_WEBP_ERROR = -3 };

// keyhole_webpsave encodes in as lossy WebP at quality q and effort, with
// libwebp's settings of libvips' webpsave (default preset, alpha quality
// 100, no metadata). The pixels are computed into memory first (through in,
// so a kill of in stops that), then encoded with a progress hook that
// aborts once in's kill flag is set. libvips' own webpsave is not used: in
// 8.14 it leaks its copy of the image when the evaluation fails, and it
// cannot stop libwebp. On success *out (free with WebPFree) holds *len
// bytes; on KEYHOLE_WEBP_ERROR *code is libwebp's error code.
static int keyhole_webpsave(VipsImage *in, int q, int effort, uint8_t **out, size_t *len, int *code) {
	VipsImage *srgb = NULL, *mem;
	WebPConfig config;
	WebPPicture pic;
	WebPMemoryWriter writer;
	int ok;

	*out = NULL;
	*len = 0;
	*code = 0;
	if (in->Bands < 3 || in->BandFmt != VIPS_FORMAT_UCHAR) {
		VipsImage *t;
		if (vips_colourspace(in, &t, VIPS_INTERPRETATION_sRGB, NULL))
			return KEYHOLE_VIPS_ERROR;
		if (vips_cast_uchar(t, &srgb, NULL)) {
			g_object_unref(t);
			return KEYHOLE_VIPS_ERROR;
		}
		g_object_unref(t);
	}
	mem = vips_image_copy_memory(srgb ? srgb : in);
	if (srgb)
		g_object_unref(srgb);
	if (!mem)
		return KEYHOLE_VIPS_ERROR;
	if ((mem->Bands != 3 && mem->Bands != 4) || mem->BandFmt != VIPS_FORMAT_UCHAR) {
		g_object_unref(mem);
		vips_error("keyhole", "webp: %d bands, format %d", mem->Bands, mem->BandFmt);
		return KEYHOLE_VIPS_ERROR;
	}

	if (!WebPConfigInit(&config) || !WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, q)) {
		g_object_unref(mem);
		*code = VP8_ENC_ERROR_INVALID_CONFIGURATION;
		return KEYHOLE_WEBP_ERROR;
	}
	config.lossless = 0;
	config.alpha_quality = 100;
	config.method = effort;
	if (!WebPValidateConfig(&config) || !WebPPictureInit(&pic)) {
		g_object_unref(mem);
		*code = VP8_ENC_ERROR_INVALID_CONFIGURATION;
		return KEYHOLE_WEBP_ERROR;
	}
	WebPMemoryWriterInit(&writer);
	pic.writer = WebPMemoryWrite;
	pic.custom_ptr = &writer;
	pic.use_argb = 0;
	pic.width = mem->Xsize;
	pic.height = mem->Ysize;
	pic.progress_hook = keyhole_webp_progress;
	pic.user_data = in;
	if (mem->Bands == 4)
		ok = WebPPictureImportRGBA(&pic, VIPS_IMAGE_ADDR(mem, 0, 0), VIPS_IMAGE_SIZEOF_LINE(mem));
	else
		ok = WebPPictureImportRGB(&pic, VIPS_IMAGE_ADDR(mem, 0, 0), VIPS_IMAGE_SIZEOF_LINE(mem));
	g_object_unref(mem);
	if (!ok) {
		*code = pic.error_code;
		WebPPictureFree(&pic);
		WebPMemoryWriterClear(&writer);
		return KEYHOLE_WEBP_ERROR;
	}
	ok = WebPEncode(&config, &pic);
	*code = pic.error_code;
	WebPPictureFree(&pic);
	if (!ok) {
		WebPMemoryWriterClear(&writer);
		return *code == VP8_ENC_ERROR_USER_ABORT ? KEYHOLE_KILLED : KEYHOLE_WEBP_ERROR;
	}
	*out = writer.mem;
	*len = writer.size;
	return KEYHOLE_OK;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// The few libvips and libwebp calls that govips does not offer. No Go
// pointer is passed to C, and C keeps none: images are referenced and
// released explicitly, and encoded buffers are copied into Go memory and
// freed at once.

// vipsImage is libvips' VipsImage.
type vipsImage = C.VipsImage

// sizeofVipsImage is the size of VipsImage in the headers this package is
// compiled against.
const sizeofVipsImage = unsafe.Sizeof(C.VipsImage{})

// ref takes a GObject reference on im.
func ref(im *vipsImage) { C.keyhole_ref(im) }

// unref releases a reference taken by ref or returned by libvips.
func unref(im *vipsImage) { C.keyhole_unref(im) }

// guardOrc keeps libvips' Orc code paths on only where they are safe.
// liborc (0.4.33 in Debian 12) frees compiled programs without a lock: two
// images that used Orc (a JPEG resize, through reducev) released at the
// same moment on two threads corrupt its code allocator, and the process
// dies with SIGSEGV in orc_code_free. orclock.c puts libvips' compiles and
// frees under one mutex; guardOrc builds and releases a small resize and
// checks that its calls arrived there. When they do not (a build or a
// linker that binds libvips to liborc directly), Orc is switched off and
// libvips uses its plain C loops instead. It reports whether Orc is on.
func guardOrc() bool {
	if C.keyhole_orc() == 0 {
		return vectorEnabled() // 8.15 and later: Highway, no Orc
	}
	if C.keyhole_orc_resolved() != 0 && vectorEnabled() {
		before := C.keyhole_orc_wrapped()
		if img, err := govips.Black(64, 64); err == nil {
			err = img.Resize(0.3, govips.KernelLanczos3)
			img.Close()
			if err == nil && C.keyhole_orc_wrapped() > before {
				return true
			}
		}
	}
	C.vips_vector_set_enabled(C.FALSE)
	return false
}

// vectorEnabled reports whether libvips' SIMD paths are on.
func vectorEnabled() bool { return C.vips_vector_isenabled() != 0 }

// setKill sets im's kill flag: the next strip requested from im fails.
// libvips reads the flag from its worker threads without a lock, by design.
func setKill(im *vipsImage) { C.keyhole_kill(im) }

// webpSave encodes in as lossy WebP at quality q and the given libwebp
// effort, with every metadata item stripped. It computes in's pixels into
// memory and then runs libwebp; a kill of in (setKill) stops either step,
// and webpSave then returns errKilled.
func webpSave(in *vipsImage, q, effort int) ([]byte, error) {
	var (
		out  *C.uint8_t
		n    C.size_t
		code C.int
	)
	switch C.keyhole_webpsave(in, C.int(q), C.int(effort), &out, &n, &code) {
	case C.KEYHOLE_OK:
		defer C.WebPFree(unsafe.Pointer(out))
		return C.GoBytes(unsafe.Pointer(out), C.int(n)), nil
	case C.KEYHOLE_KILLED:
		return nil, errKilled
	case C.KEYHOLE_WEBP_ERROR:
		return nil, fmt.Errorf("libwebp error %d", int(code))
	}
	return nil, vipsError()
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

// mallocArenas is the cap on glibc's malloc arenas that arenas.c set when
// the program loaded: 0 when it set none, -1 when the C library is not
// glibc.
func mallocArenas() int { return int(C.keyhole_arena_max()) }

// orcWrapped counts the Orc compiles and frees that came through
// orclock.c's mutex (for the tests).
func orcWrapped() int64 { return int64(C.keyhole_orc_wrapped()) }
