package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestParseMetrics(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]float64
		wantErr bool
	}{
		{
			name: "series with labels, comments skipped",
			in: `# HELP keyhole_variant_store_lookups_total Variant store lookups.
# TYPE keyhole_variant_store_lookups_total counter
keyhole_variant_store_lookups_total{result="hit"} 2144
keyhole_variant_store_lookups_total{result="miss"} 0

keyhole_variant_store_errors_total{op="get"} 3
go_goroutines 12
`,
			want: map[string]float64{
				`keyhole_variant_store_lookups_total{result="hit"}`:  2144,
				`keyhole_variant_store_lookups_total{result="miss"}`: 0,
				`keyhole_variant_store_errors_total{op="get"}`:       3,
				"go_goroutines": 12,
			},
		},
		{name: "label value with a space", in: `m{a="x y"} 1.5e3` + "\n", want: map[string]float64{`m{a="x y"}`: 1500}},
		{name: "bad value", in: "m{a=\"b\"} many\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMetrics(bufio.NewScanner(strings.NewReader(tt.in)))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}
