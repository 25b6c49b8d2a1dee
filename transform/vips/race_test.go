//go:build race

package vips_test

import "time"

// raceSlack is added to the time-limit slack of tests whose transforms
// draw text: the text mask is rasterised and PNG-encoded in Go before
// libvips runs (outside the kill hook), and the race detector makes that
// Go code about ten times slower (about 20 ms becomes about 3 s on an
// 8000-pixel-wide output).
const raceSlack = 4 * time.Second
