package transform_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/transform"
)

func TestDefaultLimits(t *testing.T) {
	want := transform.Limits{
		MaxSourcePixels: 50_000_000, MaxOutputWidth: 8192, MaxOutputHeight: 8192, MaxSourceBytes: 64 << 20,
		MaxTextRunes: 256, Timeout: 10 * time.Second, MaxConcurrent: 2 * runtime.NumCPU(), QueueTimeout: 2 * time.Second,
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
		{"MaxConcurrent", transform.Limits{MaxConcurrent: -1}},
		{"QueueTimeout", transform.Limits{QueueTimeout: -1}},
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
