package transform

import (
	"maps"
	"slices"
)

// Layers are the parameter sources of one request.
type Layers struct {
	// Strict is the profile name of a strict-profile protection ("" = none).
	// Its parameters win over everything; nothing can override them.
	Strict string
	// Secure are the token's args (see FromArgs). They may name a profile
	// in "profile"; that profile is as trusted as the args themselves.
	Secure map[string]string
	// Insecure are the query string's values (see FromQuery). They may name
	// a profile in "profile". What they may set is limited by the lock rule
	// (see Merge).
	Insecure map[string]string
	// Default is the handler's default profile name ("" = none).
	Default string
	// Lock is the protection's lock: when true every insecure parameter,
	// the profile named in the query included, is ignored.
	Lock bool
}

// Lock groups. Parameters that act together are locked together: a group
// that a secure layer touches is closed to the query string.
const (
	// GroupGeometry: w, h, s, thumbnail, scale.option, cw, ch, cx, cy,
	// crop.pad.*, crop.type, crop.aspectratio — what decides which source
	// pixels appear and at which scale.
	GroupGeometry = "geometry"
	// GroupCanvas: every canvas.* option and the frame.* options.
	GroupCanvas = "canvas"
	// GroupOrientation: rotate, flip, flop.
	GroupOrientation = "orientation"
	// GroupAdjust: grayscale, blur, sharpen, the colour and light
	// adjustments (colorlevel, colortone, colorize, vignette, opacity …).
	GroupAdjust = "adjust"
	// GroupText: text and every text.* option.
	GroupText = "text"
	// GroupWatermark: watermark and every watermark.* option.
	GroupWatermark = "watermark"
	// GroupOutput: format, q, webp-fallback, progressive, subsampling,
	// png.optimize and page.
	GroupOutput = "output"
)

// LockGroup returns the lock group of a parameter name, or "" for a name
// that belongs to none (dl, profile, unknown names).
func LockGroup(name string) string {
	d, _ := resolve(name)
	if d == nil {
		return ""
	}
	return d.lockGroup()
}

func (d *param) lockGroup() string {
	switch d.group {
	case "size", "crop":
		return GroupGeometry
	case "output":
		if d.name == "dl" {
			return ""
		}
		return GroupOutput
	case "other":
		return ""
	}
	return d.group // canvas, orientation, adjust, text, watermark
}

// shrinkOnly are the geometry parameters the query string keeps under an
// overlay-only lock (see Merge).
var shrinkOnly = []string{"w", "h", "s"}

// placing are the parameters that cut or pad the image; while any layer
// above the query sets one, the query string may not even shrink an image
// under a locked overlay.
//
// Overlay offsets and sizes in pixels (text.font.size,
// text.position.x/.y, watermark.position.x/.y) count too: a fixed number
// of pixels is a larger share of a shrunk image, so shrinking would move
// the overlay off the part of the picture it marks.
var placing = []string{"cw", "ch", "cx", "cy", "crop.type", "crop.aspectratio", "canvas.width", "canvas.height",
	"thumbnail", "crop.pad.width", "crop.pad.height",
	"canvas.aspectratio", "canvas.border.width", "canvas.border.height",
	"text.font.size", "text.position.x", "text.position.y", "watermark.position.x", "watermark.position.y"}

// Merge applies the layers in precedence order, highest first:
//
//  1. the Strict profile;
//  2. the Secure args;
//  3. the profile named in the Secure args;
//  4. the Insecure values;
//  5. the profile named in the Insecure values;
//  6. the Default profile.
//
// Layers 1–3 are secure: a signature or the configuration fixes them. A
// higher layer's value replaces a lower one's; an empty value replaces too,
// and means "not set" to Parse, so the token can switch off an option a
// profile sets.
//
// The lock rule decides what the insecure layers (4 and 5, chosen by
// whoever holds the URL) may set. What a secure layer fixes, no URL can
// undo, widen or route around:
//
//   - Text and watermark options never come from an insecure layer.
//   - Parameters form lock groups (see LockGroup): geometry, canvas,
//     orientation, adjust, text, watermark and output. A group that a secure
//     layer touches (sets any of its parameters, even to "") is closed: the
//     insecure layers' parameters of that group are ignored. So a token's
//     s=300 cannot be undone by w=1600, nor its w=300 widened into a
//     full-resolution strip by h=100% and scale.option=fill.
//   - When the secure layers or the default profile draw text or a
//     watermark, geometry, canvas and orientation are closed too, because
//     padding, cropping, turning or mirroring would move the overlay off
//     the source pixels it marks. One freedom is kept when no secure layer
//     touches geometry and no layer above the query crops or pads
//     (cw, ch, cx, cy, crop.type, crop.aspectratio, canvas.width,
//     canvas.height) or sizes or offsets an overlay in pixels
//     (text.font.size, text.position.x/.y, watermark.position.x/.y):
//     the query's w, h and s still apply, with
//     scale.option forced to noup. The image is then only shrunk as a
//     whole, never enlarged, stretched or cut, so the overlay, placed
//     relative to the image, covers the same source region (or a larger
//     one); responsive sizes keep working under a token that only adds
//     text.
//   - With Lock every insecure parameter is ignored, "profile" included.
//
// A profile named in the query counts as insecure because the client chose
// it. The dropped names are returned in ignored, sorted and each once, for
// the X-Keyhole-Ignored-Params header.
//
// Unknown names (utm_source, jwt) are left out of merged and never
// reported. Sirv's other spellings are merged under the canonical name
// (scale.width as w, text.0.size as text.size); a layer that gives one
// parameter under two spellings is an error. Refused Sirv options are
// merged like any other, so that Parse refuses them. Profiles are expanded, not referenced: merged has no "profile"
// entry, so Canonical(merged) changes when a profile's content changes and
// two profile names with the same content share variants. A "profile" entry
// inside a profile is ignored; profiles do not nest.
//
// A profile name (in any layer) missing from profiles is an error: a
// *Errors with one "profile" entry per unknown name, and nil results. Merge
// does not validate values; Parse the result.
func Merge(l Layers, profiles map[string]map[string]string) (merged map[string]string, ignored []string, err error) {
	var errs Errors
	profile := func(name string) map[string]string {
		if name == "" {
			return nil
		}
		p, ok := profiles[name]
		if !ok {
			errs.add("profile", name, "unknown profile")
		}
		return p
	}
	def := profile(l.Default)
	secure := []map[string]string{profile(l.Secure["profile"]), l.Secure, profile(l.Strict)}
	var insecure []map[string]string
	dropped := make(map[string]bool)
	if name, ok := l.Insecure["profile"]; ok {
		if l.Lock {
			dropped["profile"] = true
		} else {
			insecure = append(insecure, profile(name))
		}
	}
	insecure = append(insecure, l.Insecure)
	for _, layer := range secure {
		spellings(layer, &errs)
	}
	for _, layer := range insecure {
		spellings(layer, &errs)
	}
	spellings(def, &errs)
	if err := errs.err(); err != nil {
		return nil, nil, err
	}

	// What the layers above the query fix: the secure layers' groups, and
	// the overlays and placing parameters of secure layers and the default.
	above := make(map[string]string)
	apply(above, def)
	closed := make(map[string]bool)
	for _, layer := range secure {
		for name := range layer {
			if d, _ := resolve(name); d != nil && name != "profile" {
				closed[d.lockGroup()] = true
			}
		}
		apply(above, layer)
	}
	shrink := false
	overlay, placed := false, false
	for name, v := range above {
		if d, _ := resolve(name); d != nil && v != "" {
			overlay = overlay || d.name == "text" || d.name == "text.text64" || d.name == "watermark"
			placed = placed || slices.Contains(placing, d.name)
		}
	}
	if overlay {
		shrink = !closed[GroupGeometry] && !placed
		closed[GroupGeometry], closed[GroupCanvas], closed[GroupOrientation] = true, true, true
	}

	merged = make(map[string]string)
	apply(merged, def)
	shrunk := false
	for _, layer := range insecure {
		for name, v := range layer {
			d, canon := resolve(name)
			switch {
			case d == nil || name == "profile":
			case l.Lock || d.secureOnly():
				dropped[name] = true
			case closed[d.lockGroup()] && !(shrink && slices.Contains(shrinkOnly, name)):
				dropped[name] = true
			default:
				merged[canon] = v
				shrunk = shrunk || closed[d.lockGroup()]
			}
		}
	}
	if shrunk {
		merged["scale.option"] = "noup"
	}
	for _, layer := range secure {
		apply(merged, layer)
	}

	if len(dropped) > 0 {
		ignored = slices.Sorted(maps.Keys(dropped))
	}
	return merged, ignored, nil
}

// apply copies a trusted layer's known parameters into dst, each under
// its canonical name (scale.width as w, text.0.size as text.size).
func apply(dst, layer map[string]string) {
	for name, v := range layer {
		if d, canon := resolve(name); d != nil && name != "profile" {
			dst[canon] = v
		}
	}
}

// spellings adds an error for each parameter of layer that is given under
// two spellings (w and scale.width, text.size and text.0.size): Merge
// writes canonical names, and neither spelling may silently win.
func spellings(layer map[string]string, errs *Errors) {
	for name, v := range layer {
		if d, canon := resolve(name); d != nil && canon != name {
			if other := spelling(layer, name, canon, true); other != "" {
				errs.add(name, v, "given more than once: also as "+other)
			}
		}
	}
}
