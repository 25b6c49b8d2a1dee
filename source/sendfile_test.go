package source_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhole-dev/keyhole/source"
)

// tierDescriptors counts the process's open descriptors of tier memfds.
func tierDescriptors(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(l, "memfd:keyhole-tier") {
			n++
		}
	}
	return n
}

// sendOver copies n bytes of r (all of it when n < 0) into one end of a
// loopback TCP connection, where net.TCPConn.ReadFrom uses sendfile for a
// source with a descriptor, and returns what the other end received.
func sendOver(t *testing.T, r io.Reader, n int64) []byte {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- b
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 {
		_, err = io.Copy(c, r)
	} else {
		_, err = io.CopyN(c, r, n)
	}
	c.Close()
	if err != nil {
		t.Fatalf("copy to the connection: %v", err)
	}
	return <-got
}

// TestTierSendFile sends held copies the way net/http does (a TCP
// connection's ReadFrom, which takes sendfile for a syscall.Conn): the
// bytes are right from any position, the file's own position follows what
// sendfile sent, more readers of one copy than it has descriptors for are
// served by copying, and every descriptor is closed once the copies are
// evicted and closed.
func TestTierSendFile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memfd-backed copies are Linux's; elsewhere a copy is written from memory")
	}
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("needs /proc/self/fd to reopen a memfd and to count descriptors")
	}
	const n, size = 10, 300 << 10
	u := bucketOf(t, "s", n, size)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _, _ := tiered(t, u, source.TierConfig{MemoryBytes: 2 << 20}, clk)
	before := tierDescriptors(t)
	want := pattern(size)

	f, err := b.Open("s/0")
	if err != nil {
		t.Fatal(err)
	}
	if sf, ok := f.(interface{ SendFile() bool }); !ok || !sf.SendFile() {
		t.Fatalf("a held copy of %d bytes cannot be sent with sendfile", size)
	}
	if got := sendOver(t, f, -1); !bytes.Equal(got, want) {
		t.Fatalf("whole copy: received %d bytes, not the object", len(got))
	}
	if tierDescriptors(t) < before+2 {
		t.Fatal("no descriptor of the copy's memfd was opened: sendfile was not used")
	}
	rs := f.(io.ReadSeeker)
	if _, err := rs.Seek(100_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 10)
	if _, err := io.ReadFull(rs, head); err != nil || !bytes.Equal(head, want[100_000:100_010]) {
		t.Fatalf("read at 100000: %v", err)
	}
	if got := sendOver(t, rs, 50_000); !bytes.Equal(got, want[100_010:150_010]) {
		t.Fatalf("range from 100010: received %d bytes, not the object's", len(got))
	}
	if _, err := io.ReadFull(rs, head); err != nil || !bytes.Equal(head, want[150_010:150_020]) {
		t.Fatalf("read after sendfile does not continue where it ended: %v", err)
	}
	if pos, _ := rs.Seek(0, io.SeekCurrent); pos != 150_020 {
		t.Fatalf("position %d after the reads, want 150020", pos)
	}
	f.Close()

	// More readers of one copy at once than it keeps descriptors for.
	var files []fs.File
	for range 12 {
		g, err := b.Open("s/1")
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, g)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(files))
	for i, g := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := sendOver(t, g, -1); !bytes.Equal(got, pattern(size+1)) {
				errs <- fmt.Errorf("reader %d received %d bytes, not the object", i, len(got))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, g := range files {
		g.Close()
	}

	// Evict both copies (the tier holds about six): no descriptor of
	// theirs is left. The collector is off, so that the finalizer of an
	// *os.File cannot close a descriptor the tier forgot.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for i := 2; i < n; i++ {
		if _, err := fs.ReadFile(b, fmt.Sprintf("s/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 2; i < n; i++ {
		if _, err := fs.ReadFile(b, fmt.Sprintf("s/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got, held := tierDescriptors(t), before+6; got > held {
		t.Errorf("%d tier descriptors open with at most six copies held, want at most %d", got, held)
	}
}

// TestTierMemfdBudget: past the descriptor budget a copy is an anonymous
// mapping, written rather than sent, and still whole.
func TestTierMemfdBudget(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("memfd-backed copies are Linux's; elsewhere a copy is written from memory")
	}
	const size = 300 << 10
	u := bucketOf(t, "m", 2, size)
	defer source.AllowMemfds(1)()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, _, _ := tiered(t, u, source.TierConfig{MemoryBytes: 2 << 20}, clk)
	var sendable []bool
	for i := range 2 {
		f, err := b.Open(fmt.Sprintf("m/%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sendable = append(sendable, f.(interface{ SendFile() bool }).SendFile())
		if got := sendOver(t, f, -1); !bytes.Equal(got, pattern(size+i)) {
			t.Fatalf("m/%d: received %d bytes, not the object", i, len(got))
		}
	}
	if !sendable[0] || sendable[1] {
		t.Errorf("with room for one memfd, the copies' SendFile are %v, want [true false]", sendable)
	}
}
