package source

import (
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sendFileMin is the smallest copy put in a memfd: below it one write
// of the bytes costs about what sendfile does, and a descriptor is not
// worth holding.
const sendFileMin = 64 << 10

// memfds counts the memfd-backed buffers not yet freed; maxMemfds bounds
// it, so that the memfds and their readers' descriptors (filesPerBuffer
// each) take at most a quarter of the process's descriptor limit.
var (
	memfds    atomic.Int64
	maxMemfds = sync.OnceValue(func() int64 {
		var lim unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
			return 0
		}
		return int64(min(lim.Cur, 1<<20) / 4 / (1 + filesPerBuffer))
	})
)

// allocOffHeap maps n bytes outside the Go heap, populated at once (one
// system call instead of a page fault per 4 KiB as the fetch fills it):
// a memfd's pages when n is at least sendFileMin and the descriptor
// budget allows (fd is the memfd), else anonymous memory (fd is -1).
func allocOffHeap(n int) (data []byte, fd int, err error) {
	if n == 0 {
		return nil, -1, nil
	}
	if n >= sendFileMin {
		if memfds.Add(1) <= maxMemfds() {
			if data, fd := memfdMap(n); data != nil {
				return data, fd, nil
			}
		}
		memfds.Add(-1)
	}
	data, err = unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|unix.MAP_POPULATE)
	return data, -1, err
}

// memfdMap makes a memfd of n bytes and maps it shared; nil when the
// kernel refuses (the caller falls back to anonymous memory).
func memfdMap(n int) ([]byte, int) {
	fd, err := unix.MemfdCreate("keyhole-tier", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, -1
	}
	if unix.Ftruncate(fd, int64(n)) != nil {
		unix.Close(fd)
		return nil, -1
	}
	data, err := unix.Mmap(fd, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		unix.Close(fd)
		return nil, -1
	}
	return data, fd
}

func freeOffHeap(b []byte, fd int) {
	if b != nil {
		unix.Munmap(b)
	}
	if fd >= 0 {
		unix.Close(fd)
		memfds.Add(-1)
	}
}

// reopen opens the memfd fd again, as a new open file with an offset of
// its own (a dup would share fd's); nil when /proc is not there.
func reopen(fd int) *os.File {
	f, err := os.Open("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil
	}
	return f
}
