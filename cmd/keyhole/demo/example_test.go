package demo_test

import (
	"fmt"
	"io/fs"

	"github.com/keyhole-dev/keyhole/cmd/keyhole/demo"
)

// The demo tree that keyhole serve embeds when it runs without a config.
func ExampleFiles() {
	fs.WalkDir(demo.Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Println(name)
		}
		return err
	})
	// Output:
	// protected/logo.png
	// protected/notes.txt
	// protected/photo.jpg
	// public/landscape.jpg
}
