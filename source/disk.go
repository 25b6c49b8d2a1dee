package source

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// A disk tier file is "KHT1", a 4-byte big-endian header length, the JSON
// header and the object's bytes. The header repeats the key (a file found
// under another key's name is removed) and holds the content's length and
// CRC-32C, so a file torn by a crash or a full disk is noticed on read and
// removed, never served. Files are written under a temporary name in the
// same directory and renamed into place.
const diskMagic = "KHT1"

type diskHeader struct {
	Key     string `json:"key"`
	ETag    string `json:"etag,omitempty"`
	Mod     int64  `json:"mod"`
	Checked int64  `json:"checked"`
	Size    int64  `json:"size"`
	CRC     uint32 `json:"crc"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxDiskWrites bounds the disk writes running in the background; a copy
// made while that many run is kept in memory only.
const maxDiskWrites = 4

// diskTier is a directory of entries bounded in bytes, evicted least
// recently used first. Its index (file name → size) lives in memory and
// is rebuilt from the directory at start, oldest modification first; a
// hit touches the file so the order survives a restart.
type diskTier struct {
	dir     string
	max     int64
	metrics *tierMetrics
	logger  *slog.Logger
	live    *atomic.Int64 // the tier's bytes in buffers (see buffer)
	off     atomic.Bool   // set when a write found the disk full or failing
	slots   chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	lru      *simplelru.LRU[string, int64] // file name → size
	bytes    int64
	removing bool // an explicit removal, not an eviction
	keepFile bool // a replacement: the file is already the new copy
}

func openDiskTier(dir string, maxBytes int64, m *tierMetrics, logger *slog.Logger, live *atomic.Int64) (*diskTier, error) {
	if err := CheckTierDir(dir); err != nil {
		return nil, err
	}
	d := &diskTier{dir: dir, max: maxBytes, metrics: m, logger: logger, live: live, slots: make(chan struct{}, maxDiskWrites)}
	d.lru, _ = simplelru.NewLRU[string, int64](1<<30, func(name string, size int64) {
		d.bytes -= size
		if !d.keepFile {
			os.Remove(filepath.Join(d.dir, name))
		}
		if !d.removing {
			d.metrics.evictions[1].Inc()
		}
	})
	type found struct {
		name string
		size int64
		mod  time.Time
	}
	var files []found
	filepath.WalkDir(dir, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.Contains(de.Name(), ".tmp") {
			os.Remove(p) // a write that did not finish
			return nil
		}
		if !validDiskName(rel) {
			return nil // not ours: left alone
		}
		if info, err := de.Info(); err == nil {
			files = append(files, found{rel, info.Size(), info.ModTime()})
		}
		return nil
	})
	slices.SortFunc(files, func(a, b found) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		d.lru.Add(f.name, f.size)
		d.bytes += f.size
	}
	for d.bytes > d.max && d.lru.Len() > 0 {
		d.lru.RemoveOldest()
	}
	d.metrics.bytes[1].Set(float64(d.bytes))
	return d, nil
}

// CheckTierDir reports whether dir can hold a disk tier: an existing
// directory in which a file can be created, written and removed. keyhole
// check runs it for tier.dir.
func CheckTierDir(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case err != nil:
		return errors.New("is not an existing directory")
	case !info.IsDir():
		return errors.New("is not a directory")
	}
	f, err := os.CreateTemp(dir, ".check-*.tmp")
	if err != nil {
		return errors.New("is not writable")
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		return errors.New("cannot be written to (full disk?)")
	}
	if err := f.Sync(); err != nil {
		return errors.New("cannot be written to (full disk?)")
	}
	return nil
}

// diskName is the file of a key: two levels of its SHA-256 in hex.
func diskName(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return h[:2] + string(filepath.Separator) + h
}

func validDiskName(rel string) bool {
	dir, base := filepath.Split(rel)
	if len(base) != 64 || dir != base[:2]+string(filepath.Separator) {
		return false
	}
	_, err := hex.DecodeString(base)
	return err == nil
}

// get reads the copy under key; with offHeap its bytes are in a buffer
// (one reference, the caller's), else on the Go heap.
func (d *diskTier) get(key string, offHeap bool) *entry {
	if d.off.Load() {
		return nil
	}
	name := diskName(key)
	d.mu.Lock()
	size, ok := d.lru.Get(name)
	d.mu.Unlock()
	if !ok {
		return nil
	}
	p := filepath.Join(d.dir, name)
	var live *atomic.Int64
	if offHeap {
		live = d.live
	}
	raw, buf, err := readDiskFile(p, size, live)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errResized) {
		return nil // evicted or being replaced meanwhile
	}
	if err != nil {
		d.failed(name, "read", err)
		return nil
	}
	e, err := decodeDiskEntry(raw, key)
	if err != nil {
		buf.release()
		d.failed(name, "check", err)
		return nil
	}
	e.buf = buf
	now := time.Now()
	os.Chtimes(p, now, now) // recency for the next start's order
	return e
}

// errResized: a tier file is not the size its index holds (a write of a
// new copy renamed it into place and has not indexed it yet).
var errResized = errors.New("tier file resized")

// readDiskFile reads a whole tier file of the size the index holds: into
// a buffer counted in live (one reference, the caller's), or onto the Go
// heap when live is nil.
func readDiskFile(p string, size int64, live *atomic.Int64) ([]byte, *buffer, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if info.Size() != size {
		return nil, nil, errResized
	}
	var buf *buffer
	var raw []byte
	if live == nil {
		raw = make([]byte, size)
	} else {
		if buf, err = newBuffer(int(size), live); err != nil {
			return nil, nil, err
		}
		raw = buf.data
	}
	if _, err := io.ReadFull(f, raw); err != nil {
		buf.release()
		return nil, nil, err
	}
	return raw, buf, nil
}

// failed counts a file that could not be read or did not check out, and
// removes it.
func (d *diskTier) failed(name, op string, err error) {
	d.metrics.errors[1].Inc()
	d.logger.Warn("tier: disk "+op+" failed; the copy is dropped", "error_kind", fmt.Sprintf("%T", errors.Unwrap(err)))
	d.mu.Lock()
	d.removing = true
	d.lru.Remove(name)
	d.removing = false
	d.metrics.bytes[1].Set(float64(d.bytes))
	d.mu.Unlock()
}

func decodeDiskEntry(raw []byte, key string) (*entry, error) {
	if len(raw) < 8 || string(raw[:4]) != diskMagic {
		return nil, errors.New("not a tier file")
	}
	n := int(binary.BigEndian.Uint32(raw[4:8]))
	if n > len(raw)-8 {
		return nil, errors.New("torn header")
	}
	var h diskHeader
	if err := json.Unmarshal(raw[8:8+n], &h); err != nil {
		return nil, errors.New("bad header")
	}
	data := raw[8+n:]
	switch {
	case h.Key != key:
		return nil, errors.New("another key")
	case int64(len(data)) != h.Size:
		return nil, errors.New("torn content")
	case crc32.Checksum(data, castagnoli) != h.CRC:
		return nil, errors.New("bad checksum")
	}
	return &entry{key: key, etag: h.ETag, mod: time.Unix(0, h.Mod), checked: time.Unix(0, h.Checked), data: data}, nil
}

func encodeDiskEntry(e *entry) []byte {
	h, _ := json.Marshal(diskHeader{
		Key: e.key, ETag: e.etag, Mod: e.mod.UnixNano(), Checked: e.checked.UnixNano(),
		Size: int64(len(e.data)), CRC: crc32.Checksum(e.data, castagnoli),
	})
	out := make([]byte, 0, 8+len(h)+len(e.data))
	out = append(out, diskMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(h)))
	out = append(out, h...)
	return append(out, e.data...)
}

// put writes e in the background unless maxDiskWrites writes are running
// (the copy stays in memory only) or the disk tier is off.
func (d *diskTier) put(e *entry) {
	if d.off.Load() {
		return
	}
	select {
	case d.slots <- struct{}{}:
	default:
		return
	}
	if !e.buf.acquire() {
		<-d.slots
		return
	}
	d.wg.Add(1)
	go func() {
		defer func() { <-d.slots; d.wg.Done() }()
		defer e.buf.release()
		d.write(e)
	}()
}

func (d *diskTier) write(e *entry) {
	raw := encodeDiskEntry(e)
	size := int64(len(raw))
	if size > d.max {
		return
	}
	name := diskName(e.key)
	p := filepath.Join(d.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		d.writeFailed(err)
		return
	}
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".tmp*")
	if err != nil {
		d.writeFailed(err)
		return
	}
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		os.Remove(f.Name())
		d.writeFailed(err)
		return
	}
	d.mu.Lock()
	d.removing, d.keepFile = true, true
	d.lru.Remove(name) // an older copy's size, if any (its file is already replaced)
	d.removing, d.keepFile = false, false
	d.lru.Add(name, size)
	d.bytes += size
	for d.bytes > d.max && d.lru.Len() > 1 {
		d.lru.RemoveOldest()
	}
	d.metrics.bytes[1].Set(float64(d.bytes))
	d.mu.Unlock()
}

// writeFailed turns the disk tier off on a full or failing disk, with one
// log line: the memory tier and the bucket go on serving.
func (d *diskTier) writeFailed(err error) {
	d.metrics.errors[1].Inc()
	if d.off.Swap(true) {
		return
	}
	reason := "write failed"
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		reason = "disk full"
	}
	d.logger.Error("tier: disk tier turned off until restart; serving from memory and the bucket", "reason", reason)
}

func (d *diskTier) remove(key string) {
	name := diskName(key)
	d.mu.Lock()
	d.removing = true
	d.lru.Remove(name)
	d.removing = false
	d.metrics.bytes[1].Set(float64(d.bytes))
	d.mu.Unlock()
}

func (d *diskTier) wait() { d.wg.Wait() }
