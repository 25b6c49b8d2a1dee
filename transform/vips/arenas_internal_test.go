package vips

import (
	"os"
	"runtime"
	"testing"
)

// TestMallocArenasCapped: on glibc, with no MALLOC_ARENA_MAX in the
// environment, the package capped malloc's arenas at 2 when the program
// loaded.
func TestMallocArenasCapped(t *testing.T) {
	if runtime.GOOS != "linux" || mallocArenas() < 0 {
		// M_ARENA_MAX is glibc's: another C library has no cap to set.
		t.Skip("not glibc: there is no malloc arena cap to check")
	}
	if os.Getenv("MALLOC_ARENA_MAX") != "" {
		if n := mallocArenas(); n != 0 {
			t.Errorf("MALLOC_ARENA_MAX is set, yet the package set its own cap (%d)", n)
		}
		return
	}
	if n := mallocArenas(); n != 2 {
		t.Errorf("malloc arenas capped at %d, want 2", n)
	}
}
