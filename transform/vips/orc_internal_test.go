package vips

import (
	"testing"

	govips "github.com/davidbyttow/govips/v2/vips"
)

// TestStartupGuardsOrc: with a libvips that still runs Orc programs
// (before 8.15), Startup leaves them on only when libvips' compiles and
// frees arrive at orclock.c's mutex; TestConcurrentResizes shows why. A
// newer libvips keeps its SIMD paths.
func TestStartupGuardsOrc(t *testing.T) {
	old := govips.MajorVersion == 8 && govips.MinorVersion < 15
	if !old {
		if !vectorEnabled() {
			t.Errorf("libvips %s has no Orc, but its vector paths were switched off", govips.Version)
		}
		return
	}
	if orcOn != vectorEnabled() {
		t.Fatalf("libvips %s: Startup says Orc on = %v, libvips says %v", govips.Version, orcOn, vectorEnabled())
	}
	if !orcOn {
		t.Fatalf("libvips %s: Orc is off; this build should bind libvips' orc_program_compile and orc_program_free to orclock.c", govips.Version)
	}
	before := orcWrapped()
	img, err := govips.Black(200, 150)
	if err != nil {
		t.Fatal(err)
	}
	if err := img.Resize(0.37, govips.KernelLanczos3); err != nil {
		t.Fatal(err)
	}
	img.Close()
	if orcWrapped() <= before {
		t.Errorf("a Lanczos resize compiled or freed no Orc program through the mutex (calls %d before and after)", before)
	}
}
