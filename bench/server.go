package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"

	govips "github.com/davidbyttow/govips/v2/vips"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	_ "gocloud.dev/blob/s3blob" // s3:// roots and stores

	"github.com/keyhole-dev/keyhole/handler"
	"github.com/keyhole-dev/keyhole/source"
	"github.com/keyhole-dev/keyhole/token"
	"github.com/keyhole-dev/keyhole/transform/vips"
)

// Server kinds. Each runs in its own child process (the bench binary
// started again with -serve), so CPU time and peak RSS are per server.
const (
	serveKeyhole    = "keyhole"    // handler.New guarding /private/, vips engine
	serveFileServer = "fileserver" // http.FileServer(http.Dir(root))
	serveNaive      = "naive"      // naiveHandler: govips thumbnail + export
)

// serverOpts configures a child server.
type serverOpts struct {
	Kind          string
	Root          string
	Secret        string
	CacheBytes    int64 // handler.Config.VariantCacheBytes; -1 disables
	MaxConcurrent int   // handler.Config.MaxConcurrent; 0 = default
	OpenFiles     int   // handler.Config.OpenFiles; -1 disables the open-file cache
	// Store is a variant store's bucket URL (source.OpenStore), "" for
	// none. With a store or a tier the child also serves its metrics on
	// /metrics.
	Store string
	// TierBytes, when positive, puts a memory tier of that many bytes
	// (source.NewTier) in front of a bucket root and the store.
	TierBytes int64
}

// args returns the command-line flags that make a child run o.
func (o serverOpts) args() []string {
	return []string{
		"-serve", o.Kind, "-root", o.Root, "-secret", o.Secret,
		"-cache", strconv.FormatInt(o.CacheBytes, 10),
		"-maxconc", strconv.Itoa(o.MaxConcurrent),
		"-openfiles", strconv.Itoa(o.OpenFiles),
		"-store", o.Store,
		"-tier", strconv.FormatInt(o.TierBytes, 10),
	}
}

// startServer starts a child process serving o on 127.0.0.1.
func startServer(name string, o serverOpts) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startChild(name, exec.Command(exe, o.args()...))
}

// runServer is the child's main: it serves o on a free loopback port,
// prints "ADDR host:port" and exits when its stdin reaches EOF.
func runServer(o serverOpts) error {
	var h http.Handler
	switch o.Kind {
	case serveFileServer:
		h = http.FileServer(http.Dir(o.Root))
	case serveKeyhole, serveNaive:
		vips.Startup(vips.StartupConfig{})
		defer vips.Shutdown()
		if o.Kind == serveNaive {
			root, err := os.OpenRoot(o.Root)
			if err != nil {
				return err
			}
			h = naiveHandler{root}
			break
		}
		engine, err := vips.New(vips.Config{})
		if err != nil {
			return err
		}
		// A root with a scheme is a bucket URL (the object-storage
		// scenario); anything else a local directory.
		var (
			files fs.FS
			tier  *source.Tier
			reg   *prometheus.Registry
		)
		if o.Store != "" || o.TierBytes > 0 {
			reg = prometheus.NewRegistry()
		}
		if o.TierBytes > 0 {
			if tier, err = source.NewTier(source.TierConfig{MemoryBytes: o.TierBytes, Registerer: registerer(reg)}); err != nil {
				return err
			}
			defer tier.Close()
		}
		if strings.Contains(o.Root, "://") {
			files, err = source.Open(context.Background(), o.Root, source.Config{Tier: tier, Registerer: registerer(reg)})
		} else {
			files, err = handler.Dir(o.Root)
		}
		if err != nil {
			return err
		}
		var store handler.VariantStore
		if o.Store != "" {
			st, err := source.OpenStore(context.Background(), o.Store, source.StoreConfig{Registerer: registerer(reg), Tier: tier})
			if err != nil {
				return err
			}
			store = st
		}
		kh, err := handler.New(handler.Config{
			Files: files,
			Protections: []handler.Protection{{
				Path: "/private/",
				Keys: []token.Key{token.KeyFromString("bench", o.Secret)},
			}},
			Engine:            engine,
			MaxConcurrent:     o.MaxConcurrent,
			VariantCacheBytes: o.CacheBytes,
			OpenFiles:         o.OpenFiles,
			VariantStore:      store,
			Registerer:        registerer(reg),
		})
		if err != nil {
			return err
		}
		h = kh
		if reg != nil {
			mux := http.NewServeMux()
			mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
			mux.Handle("/", kh)
			h = mux
		}
	default:
		return fmt.Errorf("unknown server kind %q", o.Kind)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("ADDR %s\n", ln.Addr())
	go http.Serve(ln, h)
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// registerer returns reg as a prometheus.Registerer, nil for a nil reg (a
// nil *Registry in the interface would not be nil).
func registerer(reg *prometheus.Registry) prometheus.Registerer {
	if reg == nil {
		return nil
	}
	return reg
}

// naiveHandler is the in-run reference for transforms: what a first
// version of an image server on govips looks like. It reads the file,
// calls vips_thumbnail_buffer into a w×w box (the same size as w for the
// suite's landscape sources), optionally draws ?text= with vips_label at a
// fixed size (a twelfth of the width), and exports with govips' default
// parameters at quality 80 (JPEG, or WebP for ?format=webp). No limits, no
// queue, no auth.
type naiveHandler struct{ root *os.Root }

func (n naiveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, err := n.root.ReadFile(strings.TrimPrefix(r.URL.Path, "/"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	width, err := strconv.Atoi(q.Get("w"))
	if err != nil || width < 1 {
		http.Error(w, "bad w", http.StatusBadRequest)
		return
	}
	img, err := govips.NewThumbnailFromBuffer(data, width, width, govips.InterestingNone)
	if err != nil {
		http.Error(w, "thumbnail failed", http.StatusInternalServerError)
		return
	}
	defer img.Close()
	if text := q.Get("text"); text != "" {
		err := img.Label(&govips.LabelParams{
			Text:      text,
			Font:      fmt.Sprintf("DejaVu Sans %dpx", max(8, width/12)),
			Width:     govips.Scalar{Value: float64(width)}, // wrap width; no height, so no autofit
			Opacity:   1,
			Color:     govips.Color{},
			Alignment: govips.AlignCenter,
		})
		if err != nil {
			http.Error(w, "label failed", http.StatusInternalServerError)
			return
		}
	}
	var out []byte
	ctype := "image/jpeg"
	if q.Get("format") == "webp" {
		ep := govips.NewWebpExportParams()
		ep.Quality = 80
		out, _, err = img.ExportWebp(ep)
		ctype = "image/webp"
	} else {
		ep := govips.NewJpegExportParams()
		ep.Quality = 80
		out, _, err = img.ExportJpeg(ep)
	}
	if err != nil {
		http.Error(w, "export failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
}
