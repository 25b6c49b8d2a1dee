package vips

import (
	"fmt"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// AVIFEffort is the libheif/AOM encoder effort (0 fastest … 9 slowest) used
// for AVIF output: fast enough for on-the-fly variants.
const AVIFEffort = 2

// outputFormat resolves the request's format. Unset or "original" keeps the
// source's format where browsers can show it (HEIF, SVG and PDF become
// JPEG, PNG and PNG); "optimal" that reached the engine unresolved means
// WebP.
func (j *job) outputFormat() transform.Format {
	switch f := j.req.Format; f {
	case transform.FormatJPEG, transform.FormatPNG, transform.FormatWebP,
		transform.FormatAVIF, transform.FormatGIF:
		return f
	case transform.FormatOptimal:
		return transform.FormatWebP
	}
	switch j.typ {
	case govips.ImageTypePNG, govips.ImageTypeSVG, govips.ImageTypePDF:
		return transform.FormatPNG
	case govips.ImageTypeGIF:
		return transform.FormatGIF
	case govips.ImageTypeWEBP:
		return transform.FormatWebP
	case govips.ImageTypeAVIF:
		return transform.FormatAVIF
	}
	return transform.FormatJPEG
}

// encode writes the image. Metadata is stripped (EXIF, XMP, IPTC and the ICC
// profile, whose effect was applied to the pixels when loading, so the
// output is plain sRGB). JPEG has optimised Huffman tables, is flattened
// onto white, baseline unless progressive is set, and subsampled as
// subsampling says (libvips' choice by default); PNG is interlaced with
// progressive and quantised to a palette with png.optimize; quality is q
// or DefaultQuality.
func (j *job) encode() error {
	img := j.img
	w, h := img.Width(), img.Height()
	if err := j.checkSize("output", w, h); err != nil {
		return err
	}
	q := j.p.Quality
	if q <= 0 || q > 100 {
		q = DefaultQuality
	}
	f := j.outputFormat()
	var (
		data []byte
		err  error
	)
	switch f {
	case transform.FormatJPEG:
		if img.HasAlpha() {
			if err := ensureRGB(img); err != nil {
				return err
			}
			if err := img.Flatten(&govips.Color{R: 255, G: 255, B: 255}); err != nil {
				return err
			}
		}
		sub := govips.VipsForeignSubsampleAuto
		switch j.p.Subsampling {
		case "4:2:0":
			sub = govips.VipsForeignSubsampleOn
		case "4:4:4":
			sub = govips.VipsForeignSubsampleOff
		}
		data, _, err = img.ExportJpeg(&govips.JpegExportParams{
			StripMetadata:  true,
			Quality:        q,
			Interlace:      j.p.Progressive,
			OptimizeCoding: true,
			SubsampleMode:  sub,
		})
	case transform.FormatPNG:
		pp := &govips.PngExportParams{
			StripMetadata: true,
			Compression:   6,
			Filter:        govips.PngFilterAll,
			Interlace:     j.p.Progressive,
		}
		if j.p.PNGOptimize {
			pp.Palette, pp.Quality, pp.Bitdepth, pp.Filter = true, 100, 8, govips.PngFilterNone
		}
		data, _, err = img.ExportPng(pp)
	case transform.FormatWebP:
		data, err = j.saveWebP(img, q)
	case transform.FormatAVIF:
		data, _, err = img.ExportAvif(&govips.AvifExportParams{
			StripMetadata: true,
			Quality:       q,
			Bitdepth:      8,
			Effort:        AVIFEffort,
		})
	case transform.FormatGIF:
		data, _, err = img.ExportGIF(&govips.GifExportParams{
			StripMetadata: true,
			Quality:       q,
			Effort:        7,
			Bitdepth:      8,
		})
	default:
		return fmt.Errorf("unsupported output format %q", f)
	}
	if err != nil {
		return err
	}
	j.out = &transform.Output{Data: data, Format: f, Width: w, Height: h}
	return nil
}
