package transform_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyhole-dev/keyhole/transform"
)

// The lock invariants, checked with generated query strings against a
// fixed set of locked tokens and strict profiles:
//
//	(a) no output shows source pixels at a larger scale than the secure
//	    layers' geometry implies;
//	(b) a locked text or watermark that the secure layers alone draw over
//	    the source image stays over the same source pixels.
//
// "What the engine will do" is transform's own geometry (Params.Plan), the
// functions the libvips engine calls for every size, window and placement.
// Text and watermark boxes are modelled from the engine's layout rule
// (size relative to the image, margin, compass placement).

// lockSetup is a secure configuration under attack.
type lockSetup struct {
	name   string
	layers transform.Layers
}

var lockSetups = []lockSetup{
	{name: "token w400 text (attack 1)", layers: transform.Layers{Secure: m{"w": "400", "text": "CONFIDENTIAL", "text.color": "ff0000"}}},
	{name: "token watermark", layers: transform.Layers{Secure: m{"watermark": "/wm/logo.png"}}},
	{name: "token watermark southeast 25%", layers: transform.Layers{Secure: m{"watermark": "/wm/logo.png", "watermark.position": "southeast", "watermark.scale.width": "25%"}}},
	{name: "token watermark tile", layers: transform.Layers{Secure: m{"watermark": "/wm/logo.png", "watermark.position": "tile"}}},
	{name: "token s300 (attack 2)", layers: transform.Layers{Secure: m{"s": "300"}}},
	{name: "token w300 (attack 3)", layers: transform.Layers{Secure: m{"w": "300"}}},
	{name: "token h50%", layers: transform.Layers{Secure: m{"h": "50%"}}},
	{name: "token fill box", layers: transform.Layers{Secure: m{"w": "300", "h": "300", "scale.option": "fill"}}},
	{name: "token crop only", layers: transform.Layers{Secure: m{"cw": "200", "ch": "200", "cx": "center", "cy": "center"}}},
	{name: "token text only northwest", layers: transform.Layers{Secure: m{"text": "© ACME", "text.position": "northwest", "text.size": "5"}}},
	{name: "token text only south, default w800", layers: transform.Layers{Secure: m{"text": "draft", "text.position": "south"}, Default: "w800"}},
	{name: "token text and rotate", layers: transform.Layers{Secure: m{"text": "x", "rotate": "90", "text.position": "east"}}},
	{name: "token text on a canvas", layers: transform.Layers{Secure: m{"text": "x", "canvas.width": "2000", "canvas.height": "2000"}}},
	{name: "token profile", layers: transform.Layers{Secure: m{"profile": "brand"}}},
	{name: "strict w400 watermark", layers: transform.Layers{Strict: "strict"}},
	{name: "strict w400 (attack 3)", layers: transform.Layers{Strict: "w400"}},
	{name: "default watermark", layers: transform.Layers{Default: "brand"}},
	{name: "token watermark rotated on a canvas at an offset", layers: transform.Layers{Secure: m{"watermark.0.image": "/wm/logo.png", "watermark.position.gravity": "south", "watermark.position.y": "5%", "watermark.rotate": "30", "watermark.canvas.width": "20%", "watermark.canvas.color": "ffffff80", "watermark.crop.width": "50%", "watermark.scale.option": "fill", "watermark.scale.width": "100", "watermark.scale.height": "100"}}},
	{name: "token text layers", layers: transform.Layers{Secure: m{"text.1.text": "TOP", "text.1.position": "north", "text.2.text": "corner", "text.2.position.gravity": "southeast", "text.2.position.x": "10%", "text.3.text64": "wqkgQUNNRQ", "text.3.size": "30"}}},
	{name: "token watermark layers", layers: transform.Layers{Secure: m{"watermark.1.image": "/wm/logo.png", "watermark.1.position": "northeast", "watermark.3.image": "/wm/b.png", "watermark.3.position.gravity": "southwest", "watermark.3.position.x": "3%", "watermark.3.scale.width": "10%"}}},
	{name: "token text at an offset", layers: transform.Layers{Secure: m{"text.0.text": "© ACME", "text.position.gravity": "southeast", "text.position.x": "20", "text.position.y": "10%", "text.font.size": "30"}}},
}

var lockProfiles = map[string]map[string]string{
	"strict": {"w": "400", "watermark": "/wm/logo.png", "watermark.position": "southeast"},
	"w400":   {"w": "400"},
	"w800":   {"w": "800"},
	"brand":  {"watermark": "/wm/logo.png", "watermark.position": "northwest", "watermark.opacity": "40"},
	"thumb":  {"w": "100", "h": "100", "scale.option": "fill"},
	"wide":   {"canvas.width": "5000", "canvas.position": "east"},
}

// sources are the source sizes every query is planned against.
var sources = [][2]int{{1600, 1200}, {1200, 1600}, {300, 200}, {97, 1999}}

// watermarkSize is the modelled watermark image's own size.
const watermarkW, watermarkH = 200, 100

// valuePool returns candidate values for a parameter: mostly valid ones,
// plus a few invalid ones (which Parse refuses; the request is then 400
// and shows nothing).
func valuePool(name string) []string {
	switch name {
	case "w", "h", "cw", "ch", "canvas.width", "canvas.height", "watermark.scale.width", "watermark.scale.height",
		"thumbnail", "crop.pad.width", "crop.pad.height", "canvas.border.width", "canvas.border.height", "frame.width",
		"watermark.canvas.width", "watermark.canvas.height", "watermark.crop.width", "watermark.crop.height":
		return []string{"1", "7", "50", "300", "1200", "1600", "4000", "8192", "1%", "10%", "50%", "99.5%", "100%", "0", "-5"}
	case "s":
		return []string{"1", "300", "301", "1600", "8192", "50%"}
	case "cx", "cy":
		return []string{"0", "1", "100", "1599", "center", "0%", "50%", "100%"}
	case "scale.option":
		return []string{"fit", "fill", "ignore", "noup", "FILL", "zoom"}
	case "crop.type":
		return []string{"trim", "smart", "none"}
	case "crop.aspectratio", "canvas.aspectratio":
		return []string{"1:4", "4:1", "16:9", "1:1", "1:10000", "0:1"}
	case "rotate":
		return []string{"0", "90", "-90", "180", "270", "45", "-13.5", "360"}
	case "flip", "flop", "grayscale":
		return []string{"", "true", "1", "false"}
	case "format":
		return []string{"png", "jpg", "webp", "original", "optimal", "bmp"}
	case "q", "brightness", "contrast", "saturation", "hue", "lightness", "blur", "sharpen":
		return []string{"1", "50", "100", "-20"}
	case "canvas.color", "text.color", "text.background.color", "text.outline.color", "canvas.border.color", "frame.color", "frame.rim.color", "colorize.color", "colortone.color", "vignette.color":
		return []string{"ffffff", "00000000", "ff0000"}
	case "canvas.position", "text.position", "watermark.position":
		return []string{"center", "north", "southeast", "northwest", "west", "tile"}
	case "frame.style":
		return []string{"solid", "mirror", "edge", "none", "dither"}
	case "scale.width", "scale.height", "crop.width", "crop.height":
		return []string{"1", "300", "1600", "8192", "50%", "100%"}
	case "crop.x", "crop.y":
		return []string{"0", "100", "center", "50%"}
	case "dl":
		return []string{"", "a.jpg"}
	case "profile":
		return []string{"thumb", "wide", "w800", "brand", "strict", "nope"}
	case "text":
		return []string{"pwned", ""}
	case "text.position.x", "text.position.y", "watermark.position.x", "watermark.position.y":
		return []string{"0", "10", "5000", "50%", "100%", "center"}
	case "text.position.gravity", "watermark.position.gravity":
		return []string{"center", "southeast", "north", "west"}
	case "text.font.size":
		return []string{"1", "40", "1000"}
	case "watermark":
		return []string{"/wm/other.png", ""}
	}
	return []string{"1", "50", "100", "", "x"}
}

// randomQuery returns a query map of one to eight parameters.
func randomQuery(r *rand.Rand, names []string) map[string]string {
	q := make(map[string]string)
	for range 1 + r.IntN(8) {
		name := names[r.IntN(len(names))]
		pool := valuePool(name)
		q[name] = pool[r.IntN(len(pool))]
	}
	return q
}

// resolve merges and parses one request. ok is false when the request is
// refused (400), which shows no pixels.
func resolve(s lockSetup, query map[string]string) (p *transform.Params, ignored []string, ok bool) {
	l := s.layers
	l.Insecure = query
	merged, ignored, err := transform.Merge(l, lockProfiles)
	if err != nil {
		return nil, nil, false
	}
	p, err = transform.Parse(merged, transform.Limits{})
	if err != nil {
		return nil, nil, false
	}
	return p, ignored, true
}

// secureGeometry reports whether a secure layer of s sets geometry.
func secureGeometry(s lockSetup) bool {
	layers := []map[string]string{s.layers.Secure, lockProfiles[s.layers.Strict], lockProfiles[s.layers.Secure["profile"]]}
	for _, layer := range layers {
		for name := range layer {
			if transform.LockGroup(name) == transform.GroupGeometry {
				return true
			}
		}
	}
	return false
}

// overlayBox models where the engine draws p's text (kind "text") or
// watermark on an out×outH output, as the engine lays them out (text: a
// size relative to the width, a margin of 2 % of the shorter side;
// watermark: its scale, else its own size reduced to fit). ok is false
// when p draws no such overlay.
func overlayBox(p *transform.Params, kind string, w, h int) (r transform.Rect, tile, ok bool) {
	if layer, ok := strings.CutPrefix(kind, "text"); ok && layer != "" {
		q := p.WithText(p.TextLayers()[int(layer[0]-'0')])
		p, kind = &q, "text"
	}
	if layer, ok := strings.CutPrefix(kind, "watermark"); ok && layer != "" {
		q := p.WithWatermark(p.WatermarkLayers()[int(layer[0]-'0')])
		p, kind = &q, "watermark"
	}
	switch kind {
	case "text":
		if p.Text == "" {
			return r, false, false
		}
		margin := transform.TextMargin(w, h)
		wrap := max(1, w-2*margin)
		runes := utf8.RuneCountInString(p.Text)
		px := p.TextFontSize(w, h)
		bw := min(wrap, max(1, int(0.6*px*float64(runes))))
		bh := max(1, int(1.25*px))
		x, y := p.TextAt(w, h, bw, bh, margin)
		return transform.Rect{X: x, Y: y, W: bw, H: bh}, false, true
	case "watermark":
		if p.Watermark == "" {
			return r, false, false
		}
		if p.WatermarkPosition == transform.PositionTile {
			return transform.Rect{W: w, H: h}, true, true
		}
		s := p.WatermarkLayoutFor(w, h, watermarkW, watermarkH)
		x, y := p.WatermarkAt(w, h, s.W, s.H)
		return transform.Rect{X: x, Y: y, W: s.W, H: s.H}, false, true
	}
	return r, false, false
}

// footprint maps an output rectangle to the source rectangle it covers
// (the bounding box of its mapped corners and centre). ok is false when
// the rectangle's centre is not over the image.
func footprint(l transform.Layout, r transform.Rect) (x0, y0, x1, y1 float64, ok bool) {
	// Only the part over the output is drawn.
	left, top := max(r.X, 0), max(r.Y, 0)
	right, bottom := min(r.X+r.W, l.OutW), min(r.Y+r.H, l.OutH)
	if right <= left || bottom <= top {
		return 0, 0, 0, 0, false
	}
	r = transform.Rect{X: left, Y: top, W: right - left, H: bottom - top}
	cx, cy := float64(r.X)+float64(r.W)/2, float64(r.Y)+float64(r.H)/2
	if _, _, on := l.ToSource(cx, cy); !on {
		return 0, 0, 0, 0, false
	}
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	pts := [][2]float64{{cx, cy}, {float64(r.X), float64(r.Y)}, {float64(r.X + r.W), float64(r.Y)}, {float64(r.X), float64(r.Y + r.H)}, {float64(r.X + r.W), float64(r.Y + r.H)}}
	for _, pt := range pts {
		// Clamp to the output: a box that hangs off the edge is cut.
		px := min(max(pt[0], 0), float64(l.OutW))
		py := min(max(pt[1], 0), float64(l.OutH))
		sx, sy, on := l.ToSource(px, py)
		if !on {
			continue
		}
		x0, y0, x1, y1 = min(x0, sx), min(y0, sy), max(x1, sx), max(y1, sy)
	}
	return x0, y0, x1, y1, true
}

// checkInvariants returns what is wrong with query under s, or "".
func checkInvariants(s lockSetup, query map[string]string) string {
	p, _, ok := resolve(s, query)
	if !ok {
		return ""
	}
	base, _, ok := resolve(s, nil)
	if !ok {
		return "the setup alone does not parse"
	}
	geometry := secureGeometry(s)
	for _, src := range sources {
		lb, lq := base.Plan(src[0], src[1]), p.Plan(src[0], src[1])
		if lq.OutW <= 0 || lq.OutH <= 0 || lq.OutW > 8192 || lq.OutH > 8192 {
			continue // refused by the output limits
		}
		// (a) scale.
		if geometry {
			bx, by := lb.PixelScale()
			qx, qy := lq.PixelScale()
			// One pixel of rounding on the output side.
			tol := 1 / float64(min(lb.Scale.W, lb.Scale.H))
			if qx > bx*(1+tol)+1e-9 || qy > by*(1+tol)+1e-9 {
				return fmt.Sprintf("(a) source %dx%d: scale %.4f×%.4f exceeds the locked %.4f×%.4f", src[0], src[1], qx, qy, bx, by)
			}
		}
		// (b) overlays.
		for _, kind := range []string{"text", "text1", "text2", "text3", "watermark", "watermark1", "watermark2", "watermark3"} {
			rb, _, ok := overlayBox(base, kind, lb.OutW, lb.OutH)
			if !ok {
				continue
			}
			bx0, by0, bx1, by1, on := footprint(lb, rb)
			if !on {
				continue // the setup alone draws it off the image
			}
			rq, tile, ok := overlayBox(p, kind, lq.OutW, lq.OutH)
			if !ok {
				return fmt.Sprintf("(b) source %dx%d: the locked %s is gone", src[0], src[1], kind)
			}
			if tile {
				continue // a tiled watermark covers the whole output
			}
			qx0, qy0, qx1, qy1, on := footprint(lq, rq)
			if !on {
				return fmt.Sprintf("(b) source %dx%d: the locked %s is off the image", src[0], src[1], kind)
			}
			// The centre of what the setup alone covers must still be
			// covered, within a couple of output pixels of rounding.
			sx, sy := lq.PixelScale()
			tolX, tolY := 3/sx, 3/sy
			cx, cy := (bx0+bx1)/2, (by0+by1)/2
			if cx < qx0-tolX || cx > qx1+tolX || cy < qy0-tolY || cy > qy1+tolY {
				return fmt.Sprintf("(b) source %dx%d: the locked %s moved: it covered around (%.0f,%.0f), now [%.0f,%.0f]×[%.0f,%.0f]",
					src[0], src[1], kind, cx, cy, qx0, qx1, qy0, qy1)
			}
		}
	}
	return ""
}

func parameterNames() []string {
	var names []string
	for _, d := range transform.Definitions() {
		names = append(names, d.Name)
	}
	// Sirv's second spellings and numbered layers, which the query may try.
	return append(names, "utm_source", "jwt", "scale.width", "scale.height", "crop.x", "crop.y", "crop.width", "crop.height",
		"quality", "text.0.text", "text.1.text", "watermark.0.image", "watermark.2.position")
}

// TestLockInvariants runs thousands of generated query strings against
// every locked setup.
func TestLockInvariants(t *testing.T) {
	names := parameterNames()
	n := 3000
	if testing.Short() {
		n = 300
	}
	for i, s := range lockSetups {
		t.Run(s.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 2026))
			failures, refused := 0, 0
			for range n {
				q := randomQuery(r, names)
				if _, _, ok := resolve(s, q); !ok {
					refused++
				}
				if msg := checkInvariants(s, q); msg != "" {
					failures++
					if failures <= 5 {
						t.Errorf("?%s: %s", encode(q), msg)
					}
				}
			}
			if refused > n*9/10 {
				t.Errorf("%d of %d generated queries were refused: the generator explores too little", refused, n)
			}
			if failures > 5 {
				t.Errorf("%d more failures", failures-5)
			}
		})
	}
}

// TestLockAttacks are the reported attacks, each refused by the lock
// rule: the attacking parameters are ignored and reported.
func TestLockAttacks(t *testing.T) {
	tests := []struct {
		name    string
		setup   int // index into lockSetups
		query   string
		ignored []string
	}{
		{"1 canvas removes a locked text", 0, "format=png&canvas.width=2000&canvas.height=2000&canvas.position=northwest",
			[]string{"canvas.height", "canvas.position", "canvas.width"}},
		{"1 canvas removes a locked watermark", 1, "canvas.width=2000&canvas.height=2000&canvas.position=northwest",
			[]string{"canvas.height", "canvas.position", "canvas.width"}},
		{"1 canvas removes a strict watermark", 14, "canvas.width=5000&canvas.position=west", []string{"canvas.position", "canvas.width"}},
		{"2 w bypasses a locked s", 4, "w=1600", []string{"w"}},
		{"2 w% bypasses a locked s", 4, "w=100%25", []string{"w"}},
		{"2 h% bypasses a locked s", 4, "h=100%25", []string{"h"}},
		{"3 fill strip under a locked w", 5, "h=100%25&scale.option=fill", []string{"h", "scale.option"}},
		{"3 aspect ratio strip under a locked w", 5, "crop.aspectratio=1:4", []string{"crop.aspectratio"}},
		{"3 ignore strip under a locked w", 5, "scale.option=ignore&h=1200", []string{"h", "scale.option"}},
		{"3 strip under a strict w", 15, "h=100%25&scale.option=fill", []string{"h", "scale.option"}},
		{"overlay moved by a crop", 9, "cw=50%25&ch=50%25&cx=50%25&cy=50%25", []string{"ch", "cw", "cx", "cy"}},
		{"overlay moved by a flop", 9, "flop=true", []string{"flop"}},
		{"overlay moved by a rotation", 9, "rotate=180", []string{"rotate"}},
		{"overlay moved by a query profile", 9, "profile=wide", []string{"canvas.position", "canvas.width"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := lockSetups[tt.setup]
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, ignored, ok := resolve(s, transform.FromQuery(q))
			if !ok {
				t.Fatalf("refused")
			}
			if !slices.Equal(ignored, tt.ignored) {
				t.Errorf("ignored = %q, want %q", ignored, tt.ignored)
			}
			if msg := checkInvariants(s, transform.FromQuery(q)); msg != "" {
				t.Error(msg)
			}
			base, _, _ := resolve(s, nil)
			l, lb := p.Plan(1600, 1200), base.Plan(1600, 1200)
			if l.OutW != lb.OutW || l.OutH != lb.OutH {
				t.Errorf("output %dx%d, the lock alone gives %dx%d", l.OutW, l.OutH, lb.OutW, lb.OutH)
			}
		})
	}
}

// TestLockKeepsResponsiveSizes: a token that only adds text still lets the
// query shrink the image (never enlarge, stretch or crop it).
func TestLockKeepsResponsiveSizes(t *testing.T) {
	s := lockSetups[9] // text only
	tests := []struct {
		query   string
		w, h    int
		ignored []string
	}{
		{"w=400", 400, 300, nil},
		{"h=50%25", 800, 600, nil},
		{"s=320", 320, 240, nil},
		{"w=4000", 1600, 1200, nil},
		{"w=400&h=400&scale.option=fill", 400, 300, []string{"scale.option"}},
		{"w=400&h=100&scale.option=ignore", 133, 100, []string{"scale.option"}},
		{"w=400&cw=100", 400, 300, []string{"cw"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, ignored, ok := resolve(s, transform.FromQuery(q))
			if !ok {
				t.Fatal("refused")
			}
			l := p.Plan(1600, 1200)
			if l.OutW != tt.w || l.OutH != tt.h {
				t.Errorf("output %dx%d, want %dx%d", l.OutW, l.OutH, tt.w, tt.h)
			}
			if !slices.Equal(ignored, tt.ignored) {
				t.Errorf("ignored = %q, want %q", ignored, tt.ignored)
			}
		})
	}
}

// TestLockInvariantsCatchTheOldRule makes sure the invariant check can
// fail: the attack queries, resolved without the lock rule (query above
// nothing but its own secure-only filter), break it.
func TestLockInvariantsCatchTheOldRule(t *testing.T) {
	for _, c := range []struct {
		setup int
		query m
	}{
		{0, m{"canvas.width": "2000", "canvas.height": "2000", "canvas.position": "northwest"}},
		{4, m{"w": "1600"}},
		{5, m{"h": "100%", "scale.option": "fill"}},
		{9, m{"flop": "true"}},
	} {
		s := lockSetups[c.setup]
		// Put the attack into a secure layer of its own: nothing closes it.
		unlocked := lockSetup{name: s.name, layers: s.layers}
		unlocked.layers.Secure = make(m)
		for k, v := range s.layers.Secure {
			unlocked.layers.Secure[k] = v
		}
		for k, v := range c.query {
			unlocked.layers.Secure[k] = v
		}
		p, _, ok := resolve(unlocked, nil)
		if !ok {
			t.Fatalf("%s: refused", s.name)
		}
		if msg := checkAgainst(s, p); msg == "" {
			t.Errorf("%s with %v: the invariant check found nothing wrong", s.name, c.query)
		}
	}
}

// checkAgainst checks already-resolved params against s's lock alone.
func checkAgainst(s lockSetup, p *transform.Params) string {
	base, _, _ := resolve(s, nil)
	for _, src := range sources {
		lb, lq := base.Plan(src[0], src[1]), p.Plan(src[0], src[1])
		bx, _ := lb.PixelScale()
		qx, _ := lq.PixelScale()
		if secureGeometry(s) && qx > bx*1.01 {
			return "scale"
		}
		for _, kind := range []string{"text", "text1", "text2", "text3", "watermark", "watermark1", "watermark2", "watermark3"} {
			rb, _, ok := overlayBox(base, kind, lb.OutW, lb.OutH)
			if !ok {
				continue
			}
			bx0, by0, bx1, by1, _ := footprint(lb, rb)
			rq, _, _ := overlayBox(p, kind, lq.OutW, lq.OutH)
			qx0, qy0, qx1, qy1, on := footprint(lq, rq)
			cx, cy := (bx0+bx1)/2, (by0+by1)/2
			if !on || cx < qx0-3 || cx > qx1+3 || cy < qy0-3 || cy > qy1+3 {
				return "overlay"
			}
		}
	}
	return ""
}

func encode(q map[string]string) string {
	v := url.Values{}
	for k, s := range q {
		v.Set(k, s)
	}
	return v.Encode()
}

// FuzzMergePlan fuzzes query strings against the locked setups: Merge and
// Parse never panic, and no accepted query breaks an invariant.
func FuzzMergePlan(f *testing.F) {
	for _, seed := range []string{
		"format=png&canvas.width=2000&canvas.height=2000&canvas.position=northwest",
		"w=1600", "w=100%25", "h=100%25&scale.option=fill", "crop.aspectratio=1:4",
		"scale.option=ignore&h=1200", "flop=1&rotate=90", "profile=wide", "cw=10&ch=10&cx=center",
		"w=400&h=400&scale.option=noup", "s=8192", "text=x&watermark=/a.png",
		// Sirv's options that move pixels.
		"canvas.aspectratio=1:1&canvas.border.width=10%25&canvas.border.height=7", "thumbnail=300",
		"frame.style=mirror&frame.width=20&frame.rim.width=3", "scale.width=300&crop.x=center&crop.width=50%25",
		"cw=10&ch=10&crop.pad.width=50&crop.pad.height=5%25", "crop.type=poi&w=100&h=50",
		"text.0.text=x&text.position.x=5000&text.font.size=900", "watermark.0.image=/a.png&watermark.rotate=33",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		query := transform.FromQuery(q)
		for _, s := range lockSetups {
			if msg := checkInvariants(s, query); msg != "" {
				t.Errorf("%s, ?%s: %s", s.name, raw, msg)
			}
		}
	})
}
