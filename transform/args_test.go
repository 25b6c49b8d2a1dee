package transform_test

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

func TestFromArgs(t *testing.T) {
	tests := []struct {
		name string
		json string
		want map[string]string
	}{
		{"empty", `{}`, map[string]string{}},
		{"scalars", `{"w": 300, "rotate": -1.5, "q": 80.0, "flip": true, "flop": false, "text": "Hi", "big": 1e21}`,
			map[string]string{"w": "300", "rotate": "-1.5", "q": "80", "flip": "true", "flop": "false", "text": "Hi", "big": "1000000000000000000000"}},
		{"nested", `{"text": {"size": 20, "color": "ff0000", "font": {"family": "Sans"}}}`,
			map[string]string{"text.size": "20", "text.color": "ff0000", "text.font.family": "Sans"}},
		{"Sirv text object", `{"text": {"text": "Hello", "position": "south"}}`,
			map[string]string{"text": "Hello", "text.position": "south"}},
		{"Sirv watermark object", `{"watermark": {"watermark": "/wm.png", "opacity": 50}}`,
			map[string]string{"watermark": "/wm.png", "watermark.opacity": "50"}},
		{"dotted keys kept", `{"scale.option": "fill", "profile": "p"}`,
			map[string]string{"scale.option": "fill", "profile": "p"}},
		{"negative zero", `{"brightness": -0}`, map[string]string{"brightness": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args map[string]any
			if err := json.Unmarshal([]byte(tt.json), &args); err != nil {
				t.Fatal(err)
			}
			got, err := transform.FromArgs(args)
			if err != nil {
				t.Fatalf("FromArgs: %v", err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("FromArgs = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFromArgsNumberKinds(t *testing.T) {
	d := json.NewDecoder(strings.NewReader(`{"w": 300, "r": 1.50, "e": 2e2}`))
	d.UseNumber()
	var args map[string]any
	if err := d.Decode(&args); err != nil {
		t.Fatal(err)
	}
	args["i"], args["i64"] = 7, int64(-8)
	got, err := transform.FromArgs(args)
	want := map[string]string{"w": "300", "r": "1.5", "e": "200", "i": "7", "i64": "-8"}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("FromArgs = %v, %v; want %v", got, err, want)
	}
}

// TestFromArgsLayers checks Sirv's arrays of layers: element i of an
// array of objects is layer i, which Parse reads like text.i.*.
func TestFromArgsLayers(t *testing.T) {
	got, err := transform.FromArgs(map[string]any{
		"text":      []any{map[string]any{"text": "top", "position": "north"}, map[string]any{"text": "low", "size": 5.0}},
		"watermark": []any{map[string]any{"image": "/wm/a.png"}},
	})
	want := map[string]string{"text.0.text": "top", "text.0.position": "north", "text.1.text": "low", "text.1.size": "5", "watermark.0.image": "/wm/a.png"}
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("FromArgs = %v, %v; want %v", got, err, want)
	}
	p, err := transform.Parse(got, transform.Limits{})
	if err != nil || p.Text != "top" || p.TextPosition != "north" || p.MoreText[0].Text != "low" || p.MoreText[0].TextSize != 5 || p.Watermark != "/wm/a.png" {
		t.Errorf("Parse = %+v, %v", p, err)
	}
}

func TestFromArgsErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  map[string]any
		names []string
	}{
		{"array", map[string]any{"w": []any{1.0}}, []string{"w"}},
		{"array of objects and more", map[string]any{"text": []any{map[string]any{"text": "a"}, "b"}}, []string{"text"}},
		{"null", map[string]any{"text": map[string]any{"color": nil}}, []string{"text.color"}},
		{"NaN", map[string]any{"q": math.NaN()}, []string{"q"}},
		{"infinity", map[string]any{"q": math.Inf(1)}, []string{"q"}},
		{"other type", map[string]any{"q": struct{}{}}, []string{"q"}},
		{"duplicate", map[string]any{"text.size": 10.0, "text": map[string]any{"size": 20.0}}, []string{"text.size"}},
		{"several", map[string]any{"a": nil, "b": []any{}, "c": "ok"}, []string{"a", "b"}},
		{"unsafe name shown safely", map[string]any{"x\ny": nil}, []string{"x\uFFFDy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transform.FromArgs(tt.args)
			var errs *transform.Errors
			if !errors.As(err, &errs) || got != nil {
				t.Fatalf("FromArgs = %v, %v; want *Errors", got, err)
			}
			if names := errs.Names(); !slices.Equal(names, tt.names) {
				t.Errorf("names = %v, want %v", names, tt.names)
			}
		})
	}
}
