package main

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/keyhole-dev/keyhole/internal/seaweed"
	"github.com/keyhole-dev/keyhole/token"
)

const replicaConfig = `addr: 127.0.0.1:0
root: {{root}}
variant_store: {{store}}
protections:
  - path: /private/
    keys:
{{keys}}
`

// TestReplicasShareBucketAndStore runs three keyhole serve replicas on
// one SeaweedFS bucket and variant store: a variant computed by one is
// served by the two others from the store, without a transform (their
// metrics prove it), and a reload rotates a key on every replica.
func TestReplicasShareBucketAndStore(t *testing.T) {
	for _, kv := range seaweed.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	srv := seaweed.Start(t)
	srv.CreateBucket(t, "site")
	srv.CreateBucket(t, "site-variants") // a store in the served bucket is refused (TestStoreOverlap)
	raw, err := blob.OpenBucket(context.Background(), srv.URL("site")+"&response_checksum_validation=when_required")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var photo bytes.Buffer
	if err := jpeg.Encode(&photo, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := raw.WriteAll(context.Background(), "private/photo.jpg", photo.Bytes(), nil); err != nil {
		t.Fatal(err)
	}

	oldKey := token.KeyFromString("old", "the-old-secret-of-at-least-32-bytes!")
	newKey := token.KeyFromString("new", "the-new-secret-of-at-least-32-bytes!")
	keyLines := func(ks ...string) string { return strings.Join(ks, "\n") }
	oldLine := `      - {id: old, secret: "the-old-secret-of-at-least-32-bytes!"}`
	newLine := `      - {id: new, secret: "the-new-secret-of-at-least-32-bytes!"}`
	config := func(keys string) string {
		return strings.NewReplacer("{{root}}", srv.URL("site"), "{{store}}", srv.URL("site-variants"), "{{keys}}", keys).Replace(replicaConfig)
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "keyhole.yaml")
	if err := os.WriteFile(name, []byte(config(keyLines(oldLine))), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var bases []string
	var dones []chan error
	for range 3 {
		base, done := startReplica(t, ctx, name)
		bases = append(bases, base)
		dones = append(dones, done)
	}
	defer func() {
		cancel()
		for _, d := range dones {
			if err := <-d; err != nil {
				t.Error(err)
			}
		}
	}()

	sign := func(k token.Key) string {
		tok, err := token.Sign(k, token.ForPath("/private/photo.jpg", time.Now(), time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	get := func(base, tok string) (int, []byte) {
		res, err := http.Get(base + "/private/photo.jpg?w=120&jwt=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}

	status, first := get(bases[0], sign(oldKey))
	if status != 200 {
		t.Fatalf("replica 0: %d %q", status, first)
	}
	// The write to the store runs after the answer: wait for it.
	waitMetric(t, bases[0], `keyhole_variant_store_writes_total{result="ok"}`, 1)
	for i, base := range bases[1:] {
		status, body := get(base, sign(oldKey))
		if status != 200 || !bytes.Equal(body, first) {
			t.Fatalf("replica %d: %d, same bytes %v", i+1, status, bytes.Equal(body, first))
		}
	}
	for i, base := range bases {
		transforms, hits := 0.0, 1.0
		if i == 0 {
			transforms, hits = 1, 0
		}
		if got := metric(t, base, `keyhole_transform_seconds_count{format="jpg"}`); got != transforms {
			t.Errorf("replica %d: %v transforms, want %v", i, got, transforms)
		}
		if got := metric(t, base, `keyhole_variant_store_lookups_total{result="hit"}`); got != hits {
			t.Errorf("replica %d: %v store hits, want %v", i, got, hits)
		}
	}

	t.Run("key rotation on every replica", func(t *testing.T) {
		// Step 1: both keys. Step 2: only the new one.
		for _, keys := range []string{keyLines(oldLine, newLine), keyLines(newLine)} {
			before := make([]float64, len(bases))
			for i, base := range bases {
				before[i] = metric(t, base, `keyhole_config_reloads_total{result="ok"}`)
			}
			if err := os.WriteFile(name, []byte(config(keys)), 0o644); err != nil {
				t.Fatal(err)
			}
			// Every replica is in this process: one signal reaches all.
			if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			for i, base := range bases {
				waitMetric(t, base, `keyhole_config_reloads_total{result="ok"}`, before[i]+1)
			}
		}
		for i, base := range bases {
			if status, body := get(base, sign(newKey)); status != 200 {
				t.Errorf("replica %d, new key: %d %q", i, status, body)
			}
			if status, _ := get(base, sign(oldKey)); status == 200 {
				t.Errorf("replica %d still accepts the removed key", i)
			}
		}
	})
}

// startReplica runs "keyhole serve -config name" until ctx ends.
func startReplica(t *testing.T, ctx context.Context, name string) (string, chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "-config", name}, pw, io.Discard); pw.Close() }()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if b, ok := strings.CutPrefix(lines.Text(), "keyhole: listening on "); ok {
			go io.Copy(io.Discard, pr)
			return b, done
		}
	}
	t.Fatalf("serve did not start: %v", <-done)
	return "", nil
}

// metric reads one sample ("name" or `name{label="v"}`) from a replica's
// /metrics; 0 when absent.
func metric(t *testing.T, base, sample string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sample, err)
			}
			return f
		}
	}
	return 0
}

func waitMetric(t *testing.T, base, sample string, want float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for metric(t, base, sample) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s did not reach %v within 15s", sample, base, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
