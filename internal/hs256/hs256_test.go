package hs256_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"testing"

	"github.com/keyhole-dev/keyhole/internal/hs256"
)

var _ hash.Hash = (*hs256.MAC)(nil)

// TestRFC4231 checks the test vectors of RFC 4231 (HMAC-SHA-256), which
// cover keys shorter than, equal to and longer than a block.
func TestRFC4231(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	cases := []struct {
		name      string
		key, data []byte
		want      string
	}{
		{"1", rep(0x0b, 20), []byte("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
		{"2", []byte("Jefe"), []byte("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
		{"3", rep(0xaa, 20), rep(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
		{"6", rep(0xaa, 131), []byte("Test Using Larger Than Block-Size Key - Hash Key First"), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := hs256.New(c.key)
			m.Write(c.data)
			if got := hex.EncodeToString(m.Sum(nil)); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

// TestSum256 compares Sum256 with crypto/sha256 for every length up to
// five blocks, so every padding case (the length field in the same or the
// next block) is covered.
func TestSum256(t *testing.T) {
	for n := range 320 {
		p := bytes.Repeat([]byte{byte(n)}, n)
		if got, want := hs256.Sum256(p), sha256.Sum256(p); got != want {
			t.Fatalf("Sum256 of %d bytes: %x, want %x", n, got, want)
		}
	}
}

// TestAgainstCryptoHMAC compares MACs with crypto/hmac for random keys
// (0 to 200 bytes) and messages written in random pieces, with Sum called
// in the middle of a message and after Reset.
func TestAgainstCryptoHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		key := make([]byte, rng.IntN(200))
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		msg := make([]byte, rng.IntN(600))
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		got, want := hs256.New(key), hmac.New(sha256.New, key)
		for round := range 2 {
			for rest := msg; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(130))
				got.Write(rest[:n])
				want.Write(rest[:n])
				rest = rest[n:]
				if rng.IntN(4) == 0 && !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
					t.Fatalf("case %d round %d: Sum mid-message differs", i, round)
				}
			}
			if g, w := got.Sum([]byte("x")), want.Sum([]byte("x")); !bytes.Equal(g, w) {
				t.Fatalf("case %d round %d (key %d bytes, message %d): %x, want %x", i, round, len(key), len(msg), g, w)
			}
			got.Reset()
			want.Reset()
		}
	}
}

// FuzzMAC compares a MAC with crypto/hmac for arbitrary keys and messages.
func FuzzMAC(f *testing.F) {
	f.Add([]byte("topsecret"), []byte("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30"))
	f.Add(bytes.Repeat([]byte{1}, 64), bytes.Repeat([]byte{2}, 55))
	f.Add([]byte{}, bytes.Repeat([]byte{3}, 56))
	f.Fuzz(func(t *testing.T, key, msg []byte) {
		m := hs256.New(key)
		m.Write(msg)
		h := hmac.New(sha256.New, key)
		h.Write(msg)
		if !bytes.Equal(m.Sum(nil), h.Sum(nil)) {
			t.Fatalf("key %x message %x: differs", key, msg)
		}
	})
}

func BenchmarkMAC(b *testing.B) {
	m := hs256.New([]byte("topsecret"))
	msg := bytes.Repeat([]byte("a"), 200)
	var sum [hs256.Size]byte
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		m.Reset()
		m.Write(msg)
		m.Sum(sum[:0])
	}
}
