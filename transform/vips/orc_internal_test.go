package vips

import (
	"testing"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// TestStartupDisablesOrc: with a libvips that still runs Orc programs
// (before 8.15), Startup switches them off; TestConcurrentResizes shows
// why. A newer libvips keeps its SIMD paths.
func TestStartupDisablesOrc(t *testing.T) {
	old := govips.MajorVersion == 8 && govips.MinorVersion < 15
	if old && vectorEnabled() {
		t.Fatalf("libvips %s: Orc code paths are on after Startup; concurrent resizes can crash in orc_code_free", govips.Version)
	}
	if !old && !vectorEnabled() {
		t.Errorf("libvips %s has no Orc, but its vector paths were switched off", govips.Version)
	}
}
