package main

import (
	"strings"
	"testing"
	"time"
)

func TestBounds(t *testing.T) {
	base := sampleRow{rss: 100 << 20, goroutines: 20, threads: 10, fds: 30}
	for _, tc := range []struct {
		name string
		end  sampleRow
		want []string // substrings, one per problem
	}{
		{"same", base, nil},
		{"within", sampleRow{rss: 214 << 20, goroutines: 40, threads: 30, fds: 50}, nil},
		{"rss", sampleRow{rss: 215 << 20, goroutines: 20, threads: 10, fds: 30}, []string{"RSS 215 MiB at the end, bound 214 MiB"}},
		{"goroutine leak", sampleRow{rss: base.rss, goroutines: 41, threads: 10, fds: 30}, []string{"goroutines 41 at the end, bound 40"}},
		{"fd leak and threads", sampleRow{rss: base.rss, goroutines: 20, threads: 31, fds: 51}, []string{"threads 31", "open fds 51"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bounds(base, tc.end)
			if len(got) != len(tc.want) {
				t.Fatalf("bounds = %q, want %d problems", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q, want %q in it", i, got[i], w)
				}
			}
		})
	}
}

func TestCountsUnexpected(t *testing.T) {
	c := &counts{byKind: map[string]map[int]int{}}
	revoked := kinds[8]
	c.add(revoked, 403, "revoked token")
	c.add(revoked, 403, "signature mismatch") // right status, wrong reason
	c.add(kinds[0], 503, "ok")
	c.add(kinds[0], 200, "ok")
	if len(c.unexpected) != 2 || !strings.Contains(c.unexpected[0], `revoked token: 403 "signature mismatch"`) || !strings.Contains(c.unexpected[1], "original: 503") {
		t.Errorf("unexpected = %q", c.unexpected)
	}
	if c.byKind["original"][200] != 1 || c.byKind["original"][503] != 1 || c.byKind["revoked token"][403] != 2 {
		t.Errorf("counts = %v", c.byKind)
	}
}

func TestConfigChangesEachReload(t *testing.T) {
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a, b := config(start, 0), config(start, 1)
	if a == b || !strings.Contains(a, "not_before: 2026-12-01T08:00:00Z") || !strings.Contains(b, "id: spare") {
		t.Errorf("config(0):\n%s\nconfig(1):\n%s", a, b)
	}
}
