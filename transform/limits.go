package transform

import (
	"errors"
	"time"
)

// Default limits. They bound the work an anonymous request can cause on a
// public path, so raise them deliberately.
const (
	DefaultMaxSourcePixels = 50_000_000
	DefaultMaxOutputWidth  = 8192
	DefaultMaxOutputHeight = 8192
	DefaultMaxSourceBytes  = 64 << 20
	DefaultMaxTextRunes    = 256
	DefaultMaxWork         = 4_000_000_000
	DefaultTimeout         = 10 * time.Second
)

// DefaultLimits returns the safe defaults: 50 megapixels of source, outputs
// up to 8192x8192, 64 MiB source files, 256 characters of text, 4e9 pixel operations, 10 s per
// transform. AllowVector is false. (How many transforms run at once is the
// caller's choice: handler.Config.MaxConcurrent.)
func DefaultLimits() Limits {
	return Limits{
		MaxSourcePixels: DefaultMaxSourcePixels,
		MaxOutputWidth:  DefaultMaxOutputWidth,
		MaxOutputHeight: DefaultMaxOutputHeight,
		MaxSourceBytes:  DefaultMaxSourceBytes,
		MaxTextRunes:    DefaultMaxTextRunes,
		MaxWork:         DefaultMaxWork,
		Timeout:         DefaultTimeout,
	}
}

// WithDefaults returns l with every zero field replaced by its default.
// Negative fields are kept, so that Validate can report them.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	fill(&l.MaxSourcePixels, d.MaxSourcePixels)
	fill(&l.MaxOutputWidth, d.MaxOutputWidth)
	fill(&l.MaxOutputHeight, d.MaxOutputHeight)
	fill(&l.MaxSourceBytes, d.MaxSourceBytes)
	fill(&l.MaxTextRunes, d.MaxTextRunes)
	fill(&l.MaxWork, d.MaxWork)
	fill(&l.Timeout, d.Timeout)
	return l
}

func fill[T int | int64 | time.Duration](field *T, def T) {
	if *field == 0 {
		*field = def
	}
}

// Validate reports the first negative field of l as an error that names the
// field, such as "transform: Limits.MaxOutputWidth is negative". Zero fields
// are valid: they mean the default.
func (l Limits) Validate() error {
	checks := []struct {
		name     string
		negative bool
	}{
		{"MaxSourcePixels", l.MaxSourcePixels < 0},
		{"MaxOutputWidth", l.MaxOutputWidth < 0},
		{"MaxOutputHeight", l.MaxOutputHeight < 0},
		{"MaxSourceBytes", l.MaxSourceBytes < 0},
		{"MaxTextRunes", l.MaxTextRunes < 0},
		{"MaxWork", l.MaxWork < 0},
		{"Timeout", l.Timeout < 0},
	}
	for _, c := range checks {
		if c.negative {
			return errors.New("transform: Limits." + c.name + " is negative")
		}
	}
	return nil
}
