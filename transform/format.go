package transform

import (
	"bytes"
	"strconv"
	"strings"
)

// FormatHEIF is a HEIF/HEIC source (ftyp brands heic, heix, mif1, …
// without an AVIF brand). Like SVG and PDF it is only ever sniffed: a
// HEIF source served with format=original is encoded as JPEG, which every
// browser can show.
const FormatHEIF Format = "heif"

// sniffLen is how far Sniff looks for an SVG root element.
const sniffLen = 1024

// Sniff returns the format of data from its first bytes: jpg, png, gif,
// webp, avif, heif, svg or pdf, or FormatUnset when none matches. SVG is a
// heuristic: after an optional byte order mark, white space, XML
// declaration, comments and DOCTYPE, an "<svg" element must start within the
// first KiB. Sniff never trusts file names.
func Sniff(data []byte) Format {
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return FormatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return FormatPDF
	}
	if f := sniffISOBMFF(data); f != FormatUnset {
		return f
	}
	if sniffSVG(data) {
		return FormatSVG
	}
	return FormatUnset
}

// sniffISOBMFF reads an ftyp box: its major brand and compatible brands.
// Any AVIF brand makes it AVIF (AVIF files often have major brand mif1);
// otherwise a HEIF brand makes it HEIF.
func sniffISOBMFF(data []byte) Format {
	if len(data) < 16 || string(data[4:8]) != "ftyp" {
		return FormatUnset
	}
	// The box holds the major brand, a minor version and compatible brands;
	// look no further than the box, the data or 4 KiB.
	size := int(data[0])<<24 | int(data[1])<<16 | int(data[2])<<8 | int(data[3])
	end := min(max(size, 16), len(data), 4096)
	var heif bool
	for i := 8; i+4 <= end; i += 4 {
		if i == 12 {
			continue // minor version, not a brand
		}
		switch string(data[i : i+4]) {
		case "avif", "avis":
			return FormatAVIF
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			heif = true
		}
	}
	if heif {
		return FormatHEIF
	}
	return FormatUnset
}

func sniffSVG(data []byte) bool {
	s := string(data[:min(len(data), sniffLen)])
	s = strings.TrimPrefix(s, "\uFEFF")
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		var skip string
		switch {
		case strings.HasPrefix(s, "<?"):
			skip = "?>"
		case strings.HasPrefix(s, "<!--"):
			skip = "-->"
		case strings.HasPrefix(s, "<!"):
			skip = ">"
		default:
			return len(s) > 4 && strings.HasPrefix(s, "<svg") && strings.ContainsRune(" \t\r\n>/", rune(s[4]))
		}
		_, rest, found := strings.Cut(s, skip)
		if !found {
			return false
		}
		s = rest
	}
}

// Negotiate picks the output format of a transform. requested is
// Params.Format, accept the request's Accept header and source the sniffed
// source format.
//
//   - FormatUnset or FormatOriginal keep the source's format, except that
//     SVG and PDF become PNG and HEIF becomes JPEG (GIF stays GIF);
//   - FormatOptimal gives AVIF when Accept lists image/avif, else WebP when
//     it lists image/webp, else the same as original, and vary is true:
//     the response must carry Vary: Accept. Wildcards (image/*, */*) do not
//     count, because browsers that cannot show AVIF send them too; a q=0
//     entry refuses the type;
//   - any other format is returned unchanged.
//
// For an unknown source (FormatUnset) original gives FormatUnset, which a
// handler treats as "not an image".
func Negotiate(requested Format, accept string, source Format) (out Format, vary bool) {
	switch requested {
	case FormatUnset, FormatOriginal:
		return displayable(source), false
	case FormatOptimal:
		switch {
		case accepts(accept, "image/avif"):
			return FormatAVIF, true
		case accepts(accept, "image/webp"):
			return FormatWebP, true
		}
		return displayable(source), true
	}
	return requested, false
}

// NegotiateFor is Negotiate for p's format, honouring webp-fallback: when
// p asks for WebP or for the optimal format and the Accept header lists
// neither WebP (for format=webp) nor AVIF and WebP (for optimal), the
// fallback format is chosen, and vary is true.
func (p *Params) NegotiateFor(accept string, source Format) (out Format, vary bool) {
	out, vary = Negotiate(p.Format, accept, source)
	if p.WebPFallback == "" {
		return out, vary
	}
	switch {
	case p.Format == FormatWebP && !accepts(accept, "image/webp"):
		return p.WebPFallback, true
	case p.Format == FormatOptimal && out != FormatAVIF && out != FormatWebP:
		return p.WebPFallback, true
	case p.Format == FormatWebP:
		return out, true
	}
	return out, vary
}

func displayable(source Format) Format {
	switch source {
	case FormatSVG, FormatPDF:
		return FormatPNG
	case FormatHEIF:
		return FormatJPEG
	}
	return source
}

// accepts reports whether the Accept header lists mediaType explicitly
// with a non-zero quality.
func accepts(header, mediaType string) bool {
	for part := range strings.SplitSeq(header, ",") {
		typ, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(typ), mediaType) {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}

// ContentType returns the MIME type of f, or "application/octet-stream"
// for FormatUnset, FormatOriginal, FormatOptimal and unknown values.
func (f Format) ContentType() string {
	switch f {
	case FormatJPEG:
		return "image/jpeg"
	case FormatPNG:
		return "image/png"
	case FormatWebP:
		return "image/webp"
	case FormatAVIF:
		return "image/avif"
	case FormatGIF:
		return "image/gif"
	case FormatSVG:
		return "image/svg+xml"
	case FormatPDF:
		return "application/pdf"
	case FormatHEIF:
		return "image/heif"
	}
	return "application/octet-stream"
}

// Ext returns the usual file name extension of f with its leading dot
// (".jpg"), or "" for FormatUnset, FormatOriginal, FormatOptimal and
// unknown values. It is meant for download names.
func (f Format) Ext() string {
	switch f {
	case FormatJPEG, FormatPNG, FormatWebP, FormatAVIF, FormatGIF, FormatSVG, FormatPDF, FormatHEIF:
		return "." + string(f)
	}
	return ""
}
