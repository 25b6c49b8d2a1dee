package transform_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/keyhole-dev/keyhole/transform"
)

func ExampleParse() {
	q, _ := url.ParseQuery("w=300&h=25%25&format=jpeg&utm_source=mail")
	p, err := transform.Parse(transform.FromQuery(q), transform.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Width.Resolve(1000), p.Height.Resolve(1000), p.Format, p.NeedsProcessing())
	// Output: 300 250 jpg true
}

func ExampleParse_errors() {
	_, err := transform.Parse(map[string]string{"w": "99999", "canvas.color": "rouge", "h": "200"}, transform.Limits{})
	var perr *transform.Errors
	if errors.As(err, &perr) {
		fmt.Println(perr)
		body, _ := json.Marshal(perr.List[0])
		fmt.Println(string(body))
	}
	// Output:
	// canvas.color=rouge: must be a hex colour RRGGBB or RRGGBBAA, or one of black, white, red, green, blue, yellow, gray (grey), silver, maroon, purple, fuchsia (magenta), lime, olive, navy, teal, aqua (cyan), orange, transparent
	// w=99999: must be pixels 1..8192, or N% with 0 < N <= 100
	// {"name":"canvas.color","value":"rouge","reason":"must be a hex colour RRGGBB or RRGGBBAA, or one of black, white, red, green, blue, yellow, gray (grey), silver, maroon, purple, fuchsia (magenta), lime, olive, navy, teal, aqua (cyan), orange, transparent"}
}

// ExampleMerge shows the lock rule: the token's watermark keeps the query
// from cropping (scale.option=fill is ignored) and only lets it shrink the
// whole image; the token's q closes the output group to the query.
func ExampleMerge() {
	profiles := map[string]map[string]string{
		"brand": {"watermark": "/wm/logo.png", "watermark.position": "southeast"},
		"thumb": {"w": "200", "h": "200", "scale.option": "fill"},
	}
	merged, ignored, err := transform.Merge(transform.Layers{
		Secure:   map[string]string{"profile": "brand", "q": "70"},
		Insecure: map[string]string{"profile": "thumb", "w": "400", "q": "100", "watermark": "/none.png", "utm_source": "x"},
	}, profiles)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(transform.Canonical(merged))
	fmt.Println("ignored:", ignored)
	// Output:
	// h=200&q=70&scale.option=noup&w=400&watermark=%2Fwm%2Flogo.png&watermark.position=southeast
	// ignored: [q scale.option watermark]
}

func ExampleCanonical() {
	fmt.Println(transform.Canonical(map[string]string{
		"w": "0300", "h": "10.0%", "format": "JPEG", "canvas.color": "FFAA00FF", "flip": "", "flop": "false", "utm_source": "x",
	}))
	// Output: canvas.color=ffaa00&flip=true&format=jpg&h=10%25&w=300
}

func ExampleNegotiate() {
	accept := "image/avif,image/webp,image/*,*/*;q=0.8"
	fmt.Println(transform.Negotiate(transform.FormatOptimal, accept, transform.FormatJPEG))
	fmt.Println(transform.Negotiate(transform.FormatOptimal, "image/webp", transform.FormatJPEG))
	fmt.Println(transform.Negotiate(transform.FormatOriginal, accept, transform.FormatSVG))
	out, _ := transform.Negotiate(transform.FormatUnset, accept, transform.FormatGIF)
	fmt.Println(out, out.ContentType(), out.Ext())
	// Output:
	// avif true
	// webp true
	// png false
	// gif image/gif .gif
}

func ExampleFromArgs() {
	var claims struct {
		Args map[string]any `json:"args"`
	}
	_ = json.Unmarshal([]byte(`{"args": {"w": 300, "text": {"text": "Hello", "size": 12.5, "color": "ffffff"}, "dl": true}}`), &claims)
	args, err := transform.FromArgs(claims.Args)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(transform.Canonical(args))
	// Output: dl=true&text=Hello&text.color=ffffff&text.size=12.5&w=300
}

func ExampleSniff() {
	fmt.Println(transform.Sniff([]byte("\x89PNG\r\n\x1a\n....")))
	fmt.Println(transform.Sniff([]byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`)))
	// Output:
	// png
	// svg
}

func ExampleParams_NeedsProcessing() {
	for _, q := range []string{"dl=photo.jpg&format=original", "format=optimal"} {
		v, _ := url.ParseQuery(q)
		p, _ := transform.Parse(transform.FromQuery(v), transform.Limits{})
		fmt.Println(q, p.NeedsProcessing())
	}
	// Output:
	// dl=photo.jpg&format=original false
	// format=optimal true
}

func ExampleLimits_WithDefaults() {
	lim := transform.Limits{MaxOutputWidth: 4000}.WithDefaults()
	fmt.Println(lim.MaxOutputWidth, lim.MaxOutputHeight, lim.MaxTextRunes, lim.Timeout, lim.Validate())
	// Output: 4000 8192 256 10s <nil>
}

// A Sirv option that Keyhole does not render is refused, naming it, and
// Sirv's second spellings are read as the parameter they stand for.
func ExampleSirvOptions() {
	for _, o := range transform.SirvOptions() {
		if o.Name == "histogram" || o.Name == "scale.width" || o.Name == "colortone" {
			line := o.Name + ": " + o.Status
			if o.AliasOf != "" {
				line += ", as " + o.AliasOf
			}
			fmt.Println(line)
		}
	}
	_, err := transform.Parse(map[string]string{"crop.type": "face", "utm_source": "x"}, transform.Limits{})
	fmt.Println(err)
	fmt.Println(transform.CanonicalName("text.0.size"), transform.Canonical(map[string]string{"scale.width": "300"}))
	// Output:
	// colortone: differs
	// histogram: refused
	// scale.width: implemented, as w
	// crop.type=face: not supported by Keyhole: face detection is not available; use crop.type=smart
	// text.size w=300
}
