package transform_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
)

func TestDefaultLimits(t *testing.T) {
	want := transform.Limits{
		MaxSourcePixels: 50_000_000, MaxOutputWidth: 8192, MaxOutputHeight: 8192, MaxSourceBytes: 64 << 20,
		MaxTextRunes: 256, MaxWork: 4_000_000_000, Timeout: 10 * time.Second,
	}
	if got := transform.DefaultLimits(); got != want {
		t.Errorf("DefaultLimits = %+v, want %+v", got, want)
	}
	if got := (transform.Limits{}).WithDefaults(); got != want {
		t.Errorf("zero WithDefaults = %+v, want %+v", got, want)
	}
	if err := transform.DefaultLimits().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
}

func TestLimitsWithDefaultsKeepsSetFields(t *testing.T) {
	l := transform.Limits{MaxOutputWidth: 100, Timeout: time.Second, AllowVector: true, MaxSourceBytes: -1}.WithDefaults()
	if l.MaxOutputWidth != 100 || l.Timeout != time.Second || !l.AllowVector || l.MaxSourceBytes != -1 {
		t.Errorf("WithDefaults changed set fields: %+v", l)
	}
	if l.MaxOutputHeight != 8192 || l.MaxTextRunes != 256 {
		t.Errorf("WithDefaults left zero fields: %+v", l)
	}
}

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		field string
		lim   transform.Limits
	}{
		{"MaxSourcePixels", transform.Limits{MaxSourcePixels: -1}},
		{"MaxOutputWidth", transform.Limits{MaxOutputWidth: -1}},
		{"MaxOutputHeight", transform.Limits{MaxOutputHeight: -1}},
		{"MaxSourceBytes", transform.Limits{MaxSourceBytes: -1}},
		{"MaxTextRunes", transform.Limits{MaxTextRunes: -1}},
		{"Timeout", transform.Limits{Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			err := tt.lim.Validate()
			if err == nil || !strings.Contains(err.Error(), "Limits."+tt.field+" ") {
				t.Errorf("Validate = %v, want an error naming %s", err, tt.field)
			}
		})
	}
	if err := (transform.Limits{}).Validate(); err != nil {
		t.Errorf("zero limits: %v", err)
	}
}

func TestCheckWork(t *testing.T) {
	tests := []struct {
		name string
		p    transform.Params
		w, h int
		bad  string // the parameter named, or ""
	}{
		{"plain resize", transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore"}, 1600, 1200, ""},
		{"attack: 8192² blur=100", transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore", Blur: 100}, 1600, 1200, "blur"},
		{"12 MP blur=100", transform.Params{Blur: 100}, 4000, 3000, ""},
		{"50 MP blur=100", transform.Params{Blur: 100}, 8000, 6250, "blur"},
		{"8192² sharpen=100", transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore", Sharpen: 100}, 1600, 1200, ""},
		{"small blur", transform.Params{Width: px(300), Blur: 100}, 8000, 6000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.CheckWork(tt.w, tt.h, transform.FormatPNG, transform.Limits{})
			var errs *transform.Errors
			switch {
			case tt.bad == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.bad != "" && !errors.As(err, &errs):
				t.Errorf("err = %v, want *Errors", err)
			case tt.bad != "" && (len(errs.List) != 1 || errs.List[0].Name != tt.bad):
				t.Errorf("err = %v, want one entry for %s", err, tt.bad)
			}
		})
	}
	// A tighter budget refuses what the default allows.
	p := transform.Params{Blur: 100}
	if err := p.CheckWork(4000, 3000, transform.FormatJPEG, transform.Limits{MaxWork: 1_000_000_000}); err == nil {
		t.Error("MaxWork 1e9 allowed a 12 MP blur=100")
	}
}

func TestCheckWorkUninterruptibleEncoders(t *testing.T) {
	big := transform.Params{Width: px(8192), Height: px(8192), ScaleOption: "ignore"}
	for _, f := range []transform.Format{transform.FormatAVIF, transform.FormatGIF} {
		err := big.CheckWork(1600, 1200, f, transform.Limits{})
		var errs *transform.Errors
		if !errors.As(err, &errs) || errs.List[0].Name != "format" {
			t.Errorf("%s 8192x8192: err = %v, want a refusal naming format", f, err)
		}
		small := transform.Params{Width: px(4096), Height: px(4096), ScaleOption: "ignore"}
		if err := small.CheckWork(1600, 1200, f, transform.Limits{}); err != nil {
			t.Errorf("%s 4096x4096: %v", f, err)
		}
	}
	if err := big.CheckWork(1600, 1200, transform.FormatPNG, transform.Limits{}); err != nil {
		t.Errorf("png 8192x8192: %v", err)
	}
}

// TestWorkCountsSirvOptions checks that max_work sees the passes of the
// Sirv colour options: the same size costs more with them, and enough of
// them push a big output over the budget.
func TestWorkCountsSirvOptions(t *testing.T) {
	plain, err := transform.Parse(map[string]string{"w": "4000"}, transform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	heavy, err := transform.Parse(map[string]string{"w": "4000", "colortone": "sepia", "vignette.value": "50", "exposure": "10", "colorize.color": "ff0000", "opacity": "50"}, transform.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := plain.Work(4000, 3000)
	b, _ := heavy.Work(4000, 3000)
	if b <= a*2 {
		t.Errorf("work with colour options %d, without %d", b, a)
	}
	lim := transform.Limits{MaxWork: (a + b) / 2}
	if plain.CheckWork(4000, 3000, transform.FormatJPEG, lim) != nil || heavy.CheckWork(4000, 3000, transform.FormatJPEG, lim) == nil {
		t.Error("CheckWork does not separate the two")
	}
}
