package vips

// The geometry itself (sizes, windows, placements) is computed by package
// transform (plan.go), so the engine and the lock rule's tests share one
// set of rules. What is left here is libvips-specific.

// jpegShrink returns the largest libjpeg shrink-on-load factor (8, 4 or 2)
// that keeps a w×h source (or region of it) at least tw×th, or 1.
func jpegShrink(w, h, tw, th int) int {
	for _, f := range [...]int{8, 4, 2} {
		if w/f >= tw && h/f >= th {
			return f
		}
	}
	return 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
