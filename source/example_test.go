package source_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/keyhole-dev/keyhole/source"
)

// Open a bucket by URL and read it as an fs.FS, as handler.Config.Files
// does. mem:// is an empty in-memory bucket (the program imports
// gocloud.dev/blob/memblob); s3://bucket?region=… works the same way.
func ExampleOpen() {
	ctx := context.Background()
	b, err := source.Open(ctx, "mem://", source.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	_, err = fs.Stat(b, "photos/missing.jpg")
	fmt.Println(err)
	_, err = source.Open(ctx, "nope://bucket?secret=x", source.Config{})
	fmt.Println(err)
	// Output:
	// stat photos/missing.jpg: file does not exist
	// source: cannot open the nope:// bucket (unknown scheme, bad parameter or no credentials)
}

// A store shared by replicas: a lookup of a missing entry is
// fs.ErrNotExist; Put writes in the background.
func ExampleOpenStore() {
	ctx := context.Background()
	st, err := source.OpenStore(ctx, "mem://", source.StoreConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	_, err = st.Get(ctx, "ab/abcdef")
	fmt.Println(errors.Is(err, fs.ErrNotExist))
	st.Put("ab/abcdef", []byte("variant"))
	st.Wait()
	data, err := st.Get(ctx, "ab/abcdef")
	fmt.Println(string(data), err)
	// Output:
	// true
	// variant <nil>
}
