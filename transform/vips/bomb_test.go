package vips_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/color"
	"syscall"
	"testing"
	"time"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// pngChunk writes one PNG chunk with its CRC.
func pngChunk(buf *bytes.Buffer, typ string, data []byte) {
	binary.Write(buf, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	buf.WriteString(typ)
	buf.Write(data)
	binary.Write(buf, binary.BigEndian, crc.Sum32())
}

// bombPNG is a small, well-formed PNG whose IHDR claims w×h RGB pixels;
// its IDAT holds a few compressed rows of zeros.
func bombPNG(t testing.TB, w, h uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB; compression, filter, interlace 0
	pngChunk(&buf, "IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 4*(1+3*int(w)))) // four rows, filter byte 0
	zw.Close()
	pngChunk(&buf, "IDAT", z.Bytes())
	pngChunk(&buf, "IEND", nil)
	return buf.Bytes()
}

// bombJPEG is a small baseline JPEG whose SOF0 frame header is patched to
// claim w×h pixels.
func bombJPEG(t testing.TB, w, h uint16) []byte {
	jpg := encodeJPEG(t, flat(16, 16, color.RGBA{10, 20, 30, 255}), 90)
	i := bytes.Index(jpg, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	// FF C0, length (2), precision (1), height (2), width (2).
	binary.BigEndian.PutUint16(jpg[i+5:], h)
	binary.BigEndian.PutUint16(jpg[i+7:], w)
	return jpg
}

// TestDecompressionBomb feeds files of a few hundred bytes that claim
// 60000×60000 pixels (10.8 GB decoded). They must be refused from the header
// alone: quickly, and without libvips allocating pixel memory. (Decoding
// even a 6000×6000 bomb of this kind takes over a second here; libvips
// spills random-access decodes over 100 MB to a temporary file, so time is
// the most sensitive of the three checks.)
func TestDecompressionBomb(t *testing.T) {
	e := newEngine(t, transform.Limits{})
	bombs := map[string][]byte{
		"PNG":  bombPNG(t, 60000, 60000),
		"JPEG": bombJPEG(t, 60000, 60000),
	}
	for name, src := range bombs {
		t.Run(name, func(t *testing.T) {
			if len(src) > 64<<10 {
				t.Fatalf("bomb is %d bytes, want a small file", len(src))
			}
			// The crafted header is what libvips sees.
			ref, err := govips.NewImageFromBuffer(src)
			if err != nil {
				t.Fatalf("libvips does not read the crafted header: %v", err)
			}
			if ref.Width() != 60000 || ref.Height() != 60000 {
				t.Fatalf("header says %dx%d", ref.Width(), ref.Height())
			}
			ref.Close()

			var before, after govips.MemoryStats
			govips.ReadVipsMemStats(&before)
			rssBefore := maxRSS()
			start := time.Now()
			for _, p := range []transform.Params{{}, {Width: px(100)}, {Width: pct(1)}, {Side: 50, Grayscale: true}} {
				_, err := e.Process(context.Background(), transform.Request{Source: src, Params: &p, Format: transform.FormatJPEG})
				if !errors.Is(err, transform.ErrSourceTooLarge) {
					t.Fatalf("%+v: err = %v, want ErrSourceTooLarge", p, err)
				}
			}
			govips.ReadVipsMemStats(&after)
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("refusing took %v", d)
			}
			if grew := after.MemHigh - before.MemHigh; grew > 1<<20 {
				t.Errorf("libvips memory high-water mark grew by %d bytes", grew)
			}
			if grew := maxRSS() - rssBefore; grew > 32<<20 {
				t.Errorf("peak RSS grew by %d bytes", grew)
			}
		})
	}
	t.Run("watermark", func(t *testing.T) {
		p := transform.Params{Watermark: "/bomb.png"}
		_, err := e.Process(context.Background(), transform.Request{
			Source: quadrantPNG(t), Params: &p, Format: transform.FormatPNG,
			ReadFile: func(string) ([]byte, error) { return bombs["PNG"], nil },
		})
		if !errors.Is(err, transform.ErrSourceTooLarge) {
			t.Errorf("err = %v, want ErrSourceTooLarge", err)
		}
	})
}

// maxRSS is the process's peak resident set size in bytes.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
