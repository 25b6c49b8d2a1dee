package source_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/source"
)

// TestTierDiskFull: a disk tier on a file system that fills up (a 512 KiB
// tmpfs) turns itself off with one log line, and every read still gets
// its bytes, from memory or the bucket. It needs root for the mount; as
// root (CI) a failing mount fails the test.
func TestTierDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=512k"); err != nil {
		t.Fatalf("mount a 512 KiB tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, 0) })

	srv := server(t)
	u, raw := newBucket(t, srv)
	const n, size = 16, 100 << 10
	for i := range n {
		put(t, raw, fmt.Sprintf("o/%d", i), pattern(size+i))
	}
	var logs syncBuffer
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, tier, reg := tiered(t, u, source.TierConfig{
		MemoryBytes: 256 << 10, MaxObjectBytes: 200 << 10,
		Dir: dir, DiskBytes: 64 << 20, // far more than the file system holds
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}, clk)
	read := func(i int) {
		t.Helper()
		data, err := fs.ReadFile(b, fmt.Sprintf("o/%d", i))
		if err != nil || !bytes.Equal(data, pattern(size+i)) {
			t.Fatalf("o/%d: %d bytes, %v", i, len(data), err)
		}
	}
	for i := range n {
		read(i)
		tier.Close() // wait for the disk write
	}
	if got := strings.Count(logs.String(), "disk tier turned off"); got != 1 {
		t.Errorf("%d log lines about the disk tier, want 1:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "reason=\"disk full\"") {
		t.Errorf("the log line does not say the disk is full:\n%s", logs.String())
	}
	if got := counter(t, reg, "keyhole_tier_errors_total", map[string]string{"tier": "disk"}); got == 0 {
		t.Error("no disk error counted")
	}
	// Off means off: later misses go to the bucket and nothing more is
	// written or logged.
	before := gets(t, reg)
	for i := range n {
		read(i)
	}
	tier.Close()
	if gets(t, reg) == before {
		t.Error("no GET after the disk tier turned off: what served the evicted objects?")
	}
	if got := strings.Count(logs.String(), "disk tier turned off"); got != 1 {
		t.Errorf("%d log lines after more misses, want still 1", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the tier's background writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
