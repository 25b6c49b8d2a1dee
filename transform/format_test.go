package transform_test

import (
	"testing"

	"github.com/keyhole-dev/keyhole/transform"
)

func TestSniff(t *testing.T) {
	ftyp := func(major string, compat ...string) []byte {
		b := []byte{0, 0, 0, byte(16 + 4*len(compat))}
		b = append(b, "ftyp"+major+"\x00\x00\x00\x00"...)
		for _, c := range compat {
			b = append(b, c...)
		}
		return append(b, "....mdat"...)
	}
	tests := []struct {
		name string
		data []byte
		want transform.Format
	}{
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, transform.FormatJPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), transform.FormatPNG},
		{"gif87", []byte("GIF87a\x01\x00"), transform.FormatGIF},
		{"gif89", []byte("GIF89a\x01\x00"), transform.FormatGIF},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), transform.FormatWebP},
		{"riff wave", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), transform.FormatUnset},
		{"avif", ftyp("avif", "mif1", "miaf"), transform.FormatAVIF},
		{"avif sequence", ftyp("avis"), transform.FormatAVIF},
		{"avif with mif1 major brand", ftyp("mif1", "avif", "miaf"), transform.FormatAVIF},
		{"heic", ftyp("heic", "mif1", "heic"), transform.FormatHEIF},
		{"heif mif1", ftyp("mif1", "heic"), transform.FormatHEIF},
		{"mp4", ftyp("isom", "iso2", "mp41"), transform.FormatUnset},
		{"pdf", []byte("%PDF-1.7\n"), transform.FormatPDF},
		{"svg bare", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), transform.FormatSVG},
		{"svg with prolog", []byte("\uFEFF  <?xml version=\"1.0\"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg>"), transform.FormatSVG},
		{"svg too late", append(append([]byte("<!--"), make([]byte, 1100)...), "--><svg>"...), transform.FormatUnset},
		{"html", []byte("<!DOCTYPE html><html><svg></svg></html>"), transform.FormatUnset},
		{"svgfoo element", []byte("<svgfoo>"), transform.FormatUnset},
		{"text", []byte("hello"), transform.FormatUnset},
		{"empty", nil, transform.FormatUnset},
		{"short jpeg", []byte{0xFF, 0xD8}, transform.FormatUnset},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transform.Sniff(tt.data); got != tt.want {
				t.Errorf("Sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	const chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
	tests := []struct {
		name      string
		requested transform.Format
		accept    string
		source    transform.Format
		want      transform.Format
		vary      bool
	}{
		{"unset keeps source", transform.FormatUnset, chrome, transform.FormatJPEG, transform.FormatJPEG, false},
		{"original keeps source", transform.FormatOriginal, chrome, transform.FormatPNG, transform.FormatPNG, false},
		{"original gif", transform.FormatOriginal, "", transform.FormatGIF, transform.FormatGIF, false},
		{"original svg", transform.FormatOriginal, "", transform.FormatSVG, transform.FormatPNG, false},
		{"original pdf", transform.FormatUnset, "", transform.FormatPDF, transform.FormatPNG, false},
		{"original heif", transform.FormatOriginal, "", transform.FormatHEIF, transform.FormatJPEG, false},
		{"original unknown", transform.FormatOriginal, "", transform.FormatUnset, transform.FormatUnset, false},
		{"optimal avif", transform.FormatOptimal, chrome, transform.FormatJPEG, transform.FormatAVIF, true},
		{"optimal webp", transform.FormatOptimal, "image/webp,*/*", transform.FormatJPEG, transform.FormatWebP, true},
		{"optimal case-insensitive", transform.FormatOptimal, "Image/WebP", transform.FormatJPEG, transform.FormatWebP, true},
		{"optimal avif refused by q=0", transform.FormatOptimal, "image/avif;q=0, image/webp;q=0.5", transform.FormatPNG, transform.FormatWebP, true},
		{"optimal wildcard only", transform.FormatOptimal, "image/*,*/*;q=0.8", transform.FormatPNG, transform.FormatPNG, true},
		{"optimal no accept", transform.FormatOptimal, "", transform.FormatGIF, transform.FormatGIF, true},
		{"optimal svg falls back to png", transform.FormatOptimal, "", transform.FormatSVG, transform.FormatPNG, true},
		{"explicit", transform.FormatWebP, chrome, transform.FormatJPEG, transform.FormatWebP, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, vary := transform.Negotiate(tt.requested, tt.accept, tt.source)
			if got != tt.want || vary != tt.vary {
				t.Errorf("Negotiate = %q, %v; want %q, %v", got, vary, tt.want, tt.vary)
			}
		})
	}
}

func TestFormatContentTypeAndExt(t *testing.T) {
	tests := []struct {
		f        transform.Format
		typ, ext string
	}{
		{transform.FormatJPEG, "image/jpeg", ".jpg"},
		{transform.FormatPNG, "image/png", ".png"},
		{transform.FormatWebP, "image/webp", ".webp"},
		{transform.FormatAVIF, "image/avif", ".avif"},
		{transform.FormatGIF, "image/gif", ".gif"},
		{transform.FormatSVG, "image/svg+xml", ".svg"},
		{transform.FormatPDF, "application/pdf", ".pdf"},
		{transform.FormatHEIF, "image/heif", ".heif"},
		{transform.FormatOriginal, "application/octet-stream", ""},
		{transform.FormatOptimal, "application/octet-stream", ""},
		{transform.FormatUnset, "application/octet-stream", ""},
		{transform.Format("bmp"), "application/octet-stream", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.f), func(t *testing.T) {
			if got := tt.f.ContentType(); got != tt.typ {
				t.Errorf("ContentType = %q, want %q", got, tt.typ)
			}
			if got := tt.f.Ext(); got != tt.ext {
				t.Errorf("Ext = %q, want %q", got, tt.ext)
			}
		})
	}
}

func TestSniffTruncatedFtyp(t *testing.T) {
	// A box size larger than the data, and a zero size, still sniff.
	tests := map[string][]byte{
		"box longer than data": []byte("\x00\x00\x01\x00ftypmif1\x00\x00\x00\x00miafavif"),
		"zero size":            []byte("\x00\x00\x00\x00ftypavif\x00\x00\x00\x00"),
	}
	for name, data := range tests {
		if got := transform.Sniff(data); got != transform.FormatAVIF {
			t.Errorf("%s: Sniff = %q, want avif", name, got)
		}
	}
}
