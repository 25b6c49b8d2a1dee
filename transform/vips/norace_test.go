//go:build !race

package vips_test

import "time"

// raceSlack is 0 without the race detector (see race_test.go).
const raceSlack time.Duration = 0
