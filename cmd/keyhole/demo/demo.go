// Package demo holds the files that keyhole serve embeds for its demo: a
// photo-like JPEG, a watermark PNG and a text file, drawn by gen.go.
package demo

import (
	"embed"
	"io/fs"
)

//go:generate go run gen.go

//go:embed files
var files embed.FS

// Files returns the demo tree: protected/photo.jpg, protected/logo.png,
// protected/notes.txt and public/landscape.jpg.
func Files() fs.FS {
	sub, err := fs.Sub(files, "files")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
