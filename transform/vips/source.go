package vips

import (
	"fmt"
	"strconv"

	govips "github.com/davidbyttow/govips/v2/vips"

	"github.com/keyhole-dev/keyhole/transform"
)

// sniff returns the type of an image file from its first bytes, refusing
// everything but the raster formats Keyhole serves (JPEG, PNG, GIF, WebP,
// AVIF/HEIF) and, when allowVector is set, SVG and PDF. TIFF, BMP, JPEG 2000,
// JPEG XL and the ImageMagick loaders are refused to keep the attack surface
// small.
func sniff(buf []byte, allowVector bool) (govips.ImageType, error) {
	t := govips.DetermineImageType(buf)
	switch t {
	case govips.ImageTypeJPEG, govips.ImageTypePNG, govips.ImageTypeGIF,
		govips.ImageTypeWEBP, govips.ImageTypeAVIF, govips.ImageTypeHEIF:
		return t, nil
	case govips.ImageTypeSVG, govips.ImageTypePDF:
		if allowVector {
			return t, nil
		}
		return t, fmt.Errorf("%w: vector sources are disabled", transform.ErrNotImage)
	}
	return t, fmt.Errorf("%w: unsupported or unknown format", transform.ErrNotImage)
}

// header is what an image's header says, read without decoding pixels.
type header struct {
	w, h   int // upright size (EXIF orientation applied)
	orient int
	pages  int // pages or frames of the file (1 for single images)
}

// readHeader opens buf lazily: libvips loaders read only the header when the
// image is opened and decode pixels on first use, so checking the size here
// is done before any pixel memory is allocated.
func readHeader(buf []byte, typ govips.ImageType, limits transform.Limits) (header, error) {
	return readPage(buf, typ, limits, 0)
}

// readPage is readHeader for page (0-based) of a multi-page source; the
// header's pages counts the source's pages.
func readPage(buf []byte, typ govips.ImageType, limits transform.Limits, page int) (header, error) {
	img, err := govips.LoadImageFromBuffer(buf, loadParams(typ, 1, page))
	if err != nil {
		return header{}, fmt.Errorf("%w: %v", transform.ErrNotImage, err)
	}
	defer img.Close()
	hd := header{w: img.Width(), h: img.Height(), orient: img.Orientation(), pages: max(1, img.Pages())}
	if hd.w <= 0 || hd.h <= 0 {
		return header{}, fmt.Errorf("%w: empty image", transform.ErrNotImage)
	}
	if int64(hd.w)*int64(hd.h) > int64(limits.MaxSourcePixels) {
		return header{}, fmt.Errorf("%w: %dx%d pixels, limit %d",
			transform.ErrSourceTooLarge, hd.w, hd.h, limits.MaxSourcePixels)
	}
	if hd.orient >= 5 && hd.orient <= 8 {
		hd.w, hd.h = hd.h, hd.w
	}
	return hd, nil
}

// loadParams are the loader options: one page or frame only (page,
// 0-based), libvips' lenient decoding of slightly damaged files, and the
// JPEG shrink-on-load factor.
func loadParams(typ govips.ImageType, shrink, page int) *govips.ImportParams {
	p := &govips.ImportParams{}
	if page > 0 {
		p.Page.Set(page)
	}
	if typ == govips.ImageTypeJPEG && shrink > 1 {
		p.JpegShrinkFactor.Set(shrink)
	}
	return p
}

// decode loads buf (already sniffed and header-checked) with the given JPEG
// shrink factor, turns it upright (EXIF orientation) and normalises its
// colour (see normalise).
func decode(buf []byte, typ govips.ImageType, shrink, page int) (*govips.ImageRef, error) {
	img, err := govips.LoadImageFromBuffer(buf, loadParams(typ, shrink, page))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", transform.ErrNotImage, err)
	}
	// Loaders that turn the image themselves (HEIF) leave orientation 1.
	if o := img.Orientation(); o > 1 && o <= 8 {
		if err := img.AutoRotate(); err != nil {
			img.Close()
			return nil, err
		}
	}
	if err := normalise(img); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}

func (j *job) checkSource() error {
	src := j.req.Source
	if int64(len(src)) > j.e.limits.MaxSourceBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", transform.ErrSourceTooLarge, len(src), j.e.limits.MaxSourceBytes)
	}
	typ, err := sniff(src, j.e.limits.AllowVector)
	if err != nil {
		return err
	}
	j.typ = typ
	return nil
}

func (j *job) readHeader() error {
	hd, err := readHeader(j.req.Source, j.typ, j.e.limits)
	if err != nil {
		return err
	}
	if page := j.p.Page; page > 1 {
		if page > hd.pages {
			return pageError(page, hd.pages)
		}
		if hd, err = readPage(j.req.Source, j.typ, j.e.limits, page-1); err != nil {
			return err
		}
	}
	j.srcW, j.srcH = hd.w, hd.h
	// Refuse disproportionate work (w=8192&h=8192&blur=100) before any
	// pixel is decoded; the error is a *transform.Errors naming blur.
	return j.p.CheckWork(j.srcW, j.srcH, j.req.Format, j.e.limits)
}

// load decodes the source. For JPEG it picks the largest shrink-on-load
// factor that keeps the image (or the automatic crop region) at least as
// large as the planned scale, so libjpeg does most of the downsizing in the
// DCT domain and the final Lanczos3 resize only covers the rest. Trim needs
// the full image, so it disables the shortcut.
func (j *job) load() error {
	shrink := 1
	if j.p.CropType != transform.CropTrim {
		ac, _ := j.p.AutoCropFor(j.srcW, j.srcH)
		aw, ah := ac.W, ac.H
		plan := j.p.ScaleFor(aw, ah)
		if err := j.checkSize("scaled image", plan.W, plan.H); err != nil {
			return err
		}
		j.plan = &plan
		if j.typ == govips.ImageTypeJPEG {
			shrink = jpegShrink(aw, ah, plan.W, plan.H)
		}
	}
	img, err := decode(j.req.Source, j.typ, shrink, max(0, j.p.Page-1))
	if err != nil {
		return err
	}
	j.set(img)
	return nil
}

// pageError refuses a page the source lacks, naming the page parameter.
func pageError(page, pages int) error {
	return &transform.Errors{List: []transform.ParamError{{
		Name: "page", Value: strconv.Itoa(page),
		Reason: "the file has " + strconv.Itoa(pages) + " page(s)",
	}}}
}
