package vips

import (
	"context"
	"errors"
	"reflect"
	"sync"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// Stopping a running evaluation
//
// libvips evaluates lazily: the stages of Process mostly build a graph of
// operations, and the pixels are computed when the encoder (or an operation
// that needs pixel values, such as trim) pulls them through the graph,
// strip by strip. Every time a strip of an image is requested,
// vips_region_prepare checks that image's kill flag; when it is set, the
// request fails with "killed for image", the evaluation stops and the
// encoder returns an error. vips_image_set_kill is a plain store into the
// image struct that libvips documents for stopping a computation from
// another thread.
//
// govips (v2.16.0, pinned in go.mod) keeps the *C.VipsImage of an ImageRef
// in the unexported field "image" and offers no accessor. imageField finds
// that field by reflection once per Engine and checks that it is a pointer
// to a C struct _VipsImage of the size this package was compiled against,
// so an incompatible govips makes New fail instead of corrupting memory.
// The pointer is only read from the goroutine that runs Process (the one
// that owns the ImageRef), and the killer takes its own GObject reference
// on it under a mutex that kill (run by context.AfterFunc) also holds, so
// kill can never touch a freed image; no Go pointer is ever handed to C
// (see cgo.go).

// errKilled is the error of a step that saw the kill itself.
var errKilled = errors.New("stopped")

// errNoImagePointer is returned by New when govips no longer stores the
// libvips image where this package expects it.
var errNoImagePointer = errors.New("vips: govips.ImageRef has no *VipsImage field \"image\"; cannot stop running transforms (govips version mismatch)")

// imageField returns the index of govips.ImageRef's *vipsImage field.
func imageField() ([]int, error) {
	t := reflect.TypeFor[govips.ImageRef]()
	f, ok := t.FieldByName("image")
	if !ok || f.Type.Kind() != reflect.Pointer {
		return nil, errNoImagePointer
	}
	el := f.Type.Elem()
	if el.Kind() != reflect.Struct || el.Name() != "_Ctype_struct__VipsImage" ||
		el.Size() != sizeofVipsImage {
		return nil, errNoImagePointer
	}
	return f.Index, nil
}

// killer stops the libvips evaluations of one Process call once its
// context is done. Process arms it with the image each stage starts from,
// through which every pixel the stage computes is pulled (saveWebP arms the
// final image itself); when the context ends, the armed image (and any
// image armed later) gets its kill flag set, so the next strip requested
// from it fails.
type killer struct {
	field []int       // index of ImageRef.image
	stop  func() bool // unregisters the context.AfterFunc

	mu     sync.Mutex
	img    *vipsImage // armed image, referenced by the killer; nil when none
	fired  bool       // the context ended while the killer was open
	closed bool
}

// newKiller returns a killer watching ctx. It starts no goroutine until
// ctx is done (context.AfterFunc). Call close when Process returns.
func newKiller(ctx context.Context, field []int) *killer {
	k := &killer{field: field}
	k.stop = context.AfterFunc(ctx, k.kill)
	return k
}

// pointer returns the libvips image behind r, or nil.
func (k *killer) pointer(r *govips.ImageRef) *vipsImage {
	if r == nil {
		return nil
	}
	v := reflect.ValueOf(r).Elem().FieldByIndex(k.field)
	return (*vipsImage)(v.UnsafePointer())
}

// arm makes r's current libvips image the one to kill. It must be called
// from the goroutine that owns r. If the context has already ended, the
// image is killed at once.
func (k *killer) arm(r *govips.ImageRef) {
	im := k.pointer(r)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed || im == k.img {
		return
	}
	if k.img != nil {
		unref(k.img)
	}
	k.img = im
	if im == nil {
		return
	}
	ref(im)
	if k.fired {
		setKill(im)
	}
}

// kill runs when the context ends: it sets the kill flag of the armed
// image. It never runs concurrently with close's release of the image.
func (k *killer) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return
	}
	k.fired = true
	if k.img != nil {
		setKill(k.img)
	}
}

// killed reports whether the context ended before close, so that an error
// from libvips is the kill and not a failure of its own.
func (k *killer) killed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fired
}

// close stops watching the context and releases the armed image. After
// close, kill does nothing.
func (k *killer) close() {
	k.stop()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.img != nil {
		unref(k.img)
		k.img = nil
	}
}
