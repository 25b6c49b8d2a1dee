package main

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// floorC is the libvips-alone loop (see floor/floor.c), compiled at run
// time so the suite needs no build step of its own.
//
//go:embed floor/floor.c
var floorC []byte

// buildFloor compiles floor/floor.c into dir with cc and pkg-config's flags
// for vips. It returns the binary, or "" and a note naming what is missing
// or what failed.
func buildFloor(dir string) (bin, skip string) {
	for _, tool := range []string{"cc", "pkg-config"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", "skipped: " + tool + " not installed"
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "vips").Output()
	if err != nil {
		return "", "skipped: libvips headers not installed (pkg-config vips failed; Debian: libvips-dev)"
	}
	src, bin := filepath.Join(dir, "floor.c"), filepath.Join(dir, "floor")
	if err := os.WriteFile(src, floorC, 0o644); err != nil {
		return "", "failed: " + err.Error()
	}
	args := append([]string{"-O2", "-o", bin, src}, strings.Fields(string(flags))...)
	if out, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return "", fmt.Sprintf("failed: cc floor.c: %v: %.300s", err, out)
	}
	return bin, ""
}

// floorRound is one round of the floor: calls and the CPU time they used.
type floorRound struct {
	Calls int64
	CPU   time.Duration
	Bytes int64 // size of the round's last output
}

// PerCall is the CPU time of one call.
func (r floorRound) PerCall() time.Duration { return r.CPU / time.Duration(r.Calls) }

// runFloor runs the floor binary on file (output kind "jpeg" or "webp",
// width w) with the suite's schedule and returns its rounds.
func runFloor(bin, file, kind string, w int, s schedule) ([]floorRound, error) {
	out, err := exec.Command(bin, file, kind, strconv.Itoa(w),
		fmt.Sprint(s.Warmup.Seconds()), strconv.Itoa(s.Rounds), fmt.Sprint(s.Round.Seconds())).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("floor: %v: %.300s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("floor: %v", err)
	}
	return parseFloor(string(out))
}

// parseFloor reads the floor's "round CALLS CPU_NS BYTES" lines.
func parseFloor(out string) ([]floorRound, error) {
	var rs []floorRound
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var r floorRound
		var ns int64
		if n, err := fmt.Sscanf(line, "round %d %d %d", &r.Calls, &ns, &r.Bytes); err != nil || n != 3 || r.Calls <= 0 || ns <= 0 {
			return nil, fmt.Errorf("floor: bad line %q", line)
		}
		r.CPU = time.Duration(ns)
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil, errors.New("floor: no rounds")
	}
	return rs, nil
}

// floorGoal is issue 20's goal for Keyhole against libvips alone: the
// floor's CPU per call / Keyhole's CPU per request, so Keyhole may need at
// most about 18 % more CPU than libvips alone.
const floorGoal = 0.85

// floorPerCall is the median over the rounds of the CPU time per call.
func floorPerCall(floor []floorRound) time.Duration {
	per := make([]float64, len(floor))
	for i, r := range floor {
		per[i] = float64(r.PerCall())
	}
	return time.Duration(median(per))
}

// floorCheck is the floor's CPU per call over Keyhole's CPU per request
// (medians; above 1 Keyhole needs less CPU than libvips alone), with the
// range over round i of each.
func floorCheck(label string, floor []floorRound, kh sideStats) check {
	c := check{Label: label, Unit: "x", Goal: floorGoal}
	if kh.CPUPerReq() <= 0 {
		c.Skip = "failed: no Keyhole CPU time measured"
		return c
	}
	c.Value = float64(floorPerCall(floor)) / float64(kh.CPUPerReq())
	for i := range min(len(floor), len(kh.Rounds)) {
		kr := kh.Rounds[i]
		if kr.Requests == 0 || kr.CPU == 0 {
			continue
		}
		r := float64(floor[i].PerCall()) / (float64(kr.CPU) / float64(kr.Requests))
		if c.Lo == 0 || r < c.Lo {
			c.Lo = r
		}
		c.Hi = max(c.Hi, r)
	}
	return c
}
