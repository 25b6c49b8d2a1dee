package source

import "syscall"

// allocOffHeap maps n bytes of anonymous memory, populated at once (one
// system call instead of a page fault per 4 KiB as the fetch fills it).
func allocOffHeap(n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
}

func freeOffHeap(b []byte) {
	if b != nil {
		syscall.Munmap(b)
	}
}
