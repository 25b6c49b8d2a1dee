// Package hs256 is HMAC-SHA-256 (RFC 2104 over FIPS 180-4 SHA-256) in
// plain Go, for the WebAssembly signer only: package token uses it when
// built for GOOS=js and crypto/hmac with crypto/sha256 everywhere else.
//
// The reason is measured size. crypto/sha256 links Go's FIPS 140 module
// (its self-tests, the DRBG, AES-GCM, SHA-3 and SHA-512 registrations),
// which makes the WebAssembly signer about 50 KB larger gzipped against a
// 0.85 MB budget; this package adds about 3 KB. On GOOS=js crypto/sha256
// has no assembly either, so nothing is lost in speed.
//
// A MAC only signs: verification stays on the server, in jwx. SHA-256's
// operations take the same time whatever the data, so signing leaks no
// timing about the key. Tests compare every function with crypto/hmac on
// random and fuzzed input.
package hs256

import "math/bits"

// Size is the length of a MAC in bytes.
const Size = 32

// BlockSize is SHA-256's block size in bytes.
const BlockSize = 64

// k are SHA-256's round constants (FIPS 180-4, 4.2.2): the first 32 bits
// of the fractional parts of the cube roots of the first 64 primes.
var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// initial is SHA-256's initial hash value (FIPS 180-4, 5.3.3): the first 32
// bits of the fractional parts of the square roots of the first 8 primes.
var initial = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// digest is a running SHA-256: the chaining state, the bytes of an
// incomplete block, and the number of bytes written.
type digest struct {
	h   [8]uint32
	buf [BlockSize]byte
	nb  int
	len uint64
}

func (d *digest) reset() {
	d.h, d.nb, d.len = initial, 0, 0
}

func (d *digest) write(p []byte) {
	d.len += uint64(len(p))
	if d.nb > 0 {
		n := copy(d.buf[d.nb:], p)
		d.nb += n
		p = p[n:]
		if d.nb < BlockSize {
			return
		}
		blocks(&d.h, d.buf[:])
		d.nb = 0
	}
	if n := len(p) &^ (BlockSize - 1); n > 0 {
		blocks(&d.h, p[:n])
		p = p[n:]
	}
	d.nb = copy(d.buf[:], p)
}

// sum appends the hash of what was written to dst. d is left finished:
// reset it before writing again.
func (d *digest) sum(dst []byte) []byte {
	bitLen := d.len << 3
	// Padding: a 1 bit, zeros up to 56 bytes into a block, the bit length.
	d.buf[d.nb] = 0x80
	d.nb++
	if d.nb > BlockSize-8 {
		clear(d.buf[d.nb:])
		blocks(&d.h, d.buf[:])
		d.nb = 0
	}
	clear(d.buf[d.nb : BlockSize-8])
	for i := range 8 {
		d.buf[BlockSize-1-i] = byte(bitLen >> (8 * i))
	}
	blocks(&d.h, d.buf[:])
	for _, v := range d.h {
		dst = append(dst, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return dst
}

// blocks runs the compression function over p, a whole number of blocks
// (FIPS 180-4, 6.2.2). The 64 rounds run eight at a time with the eight
// working variables renamed from round to round instead of moved (a few
// per cent faster in the WebAssembly build).
func blocks(h *[8]uint32, p []byte) {
	var w [64]uint32
	for len(p) >= BlockSize {
		for i := range 16 {
			j := 4 * i
			w[i] = uint32(p[j])<<24 | uint32(p[j+1])<<16 | uint32(p[j+2])<<8 | uint32(p[j+3])
		}
		for i := 16; i < 64; i++ {
			v1, v2 := w[i-2], w[i-15]
			s1 := bits.RotateLeft32(v1, -17) ^ bits.RotateLeft32(v1, -19) ^ v1>>10
			s0 := bits.RotateLeft32(v2, -7) ^ bits.RotateLeft32(v2, -18) ^ v2>>3
			w[i] = s1 + w[i-7] + s0 + w[i-16]
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for i := 0; i < 64; i += 8 {
			hh += (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) + (e&f ^ ^e&g) + k[i] + w[i]
			d += hh
			hh += (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + (a&b ^ a&c ^ b&c)
			g += (bits.RotateLeft32(d, -6) ^ bits.RotateLeft32(d, -11) ^ bits.RotateLeft32(d, -25)) + (d&e ^ ^d&f) + k[i+1] + w[i+1]
			c += g
			g += (bits.RotateLeft32(hh, -2) ^ bits.RotateLeft32(hh, -13) ^ bits.RotateLeft32(hh, -22)) + (hh&a ^ hh&b ^ a&b)
			f += (bits.RotateLeft32(c, -6) ^ bits.RotateLeft32(c, -11) ^ bits.RotateLeft32(c, -25)) + (c&d ^ ^c&e) + k[i+2] + w[i+2]
			b += f
			f += (bits.RotateLeft32(g, -2) ^ bits.RotateLeft32(g, -13) ^ bits.RotateLeft32(g, -22)) + (g&hh ^ g&a ^ hh&a)
			e += (bits.RotateLeft32(b, -6) ^ bits.RotateLeft32(b, -11) ^ bits.RotateLeft32(b, -25)) + (b&c ^ ^b&d) + k[i+3] + w[i+3]
			a += e
			e += (bits.RotateLeft32(f, -2) ^ bits.RotateLeft32(f, -13) ^ bits.RotateLeft32(f, -22)) + (f&g ^ f&hh ^ g&hh)
			d += (bits.RotateLeft32(a, -6) ^ bits.RotateLeft32(a, -11) ^ bits.RotateLeft32(a, -25)) + (a&b ^ ^a&c) + k[i+4] + w[i+4]
			hh += d
			d += (bits.RotateLeft32(e, -2) ^ bits.RotateLeft32(e, -13) ^ bits.RotateLeft32(e, -22)) + (e&f ^ e&g ^ f&g)
			c += (bits.RotateLeft32(hh, -6) ^ bits.RotateLeft32(hh, -11) ^ bits.RotateLeft32(hh, -25)) + (hh&a ^ ^hh&b) + k[i+5] + w[i+5]
			g += c
			c += (bits.RotateLeft32(d, -2) ^ bits.RotateLeft32(d, -13) ^ bits.RotateLeft32(d, -22)) + (d&e ^ d&f ^ e&f)
			b += (bits.RotateLeft32(g, -6) ^ bits.RotateLeft32(g, -11) ^ bits.RotateLeft32(g, -25)) + (g&hh ^ ^g&a) + k[i+6] + w[i+6]
			f += b
			b += (bits.RotateLeft32(c, -2) ^ bits.RotateLeft32(c, -13) ^ bits.RotateLeft32(c, -22)) + (c&d ^ c&e ^ d&e)
			a += (bits.RotateLeft32(f, -6) ^ bits.RotateLeft32(f, -11) ^ bits.RotateLeft32(f, -25)) + (f&g ^ ^f&hh) + k[i+7] + w[i+7]
			e += a
			a += (bits.RotateLeft32(b, -2) ^ bits.RotateLeft32(b, -13) ^ bits.RotateLeft32(b, -22)) + (b&c ^ b&d ^ c&d)
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
		h[5] += f
		h[6] += g
		h[7] += hh
		p = p[BlockSize:]
	}
}

// Sum256 returns the SHA-256 hash of p.
func Sum256(p []byte) [Size]byte {
	var d digest
	d.reset()
	d.write(p)
	var out [Size]byte
	d.sum(out[:0])
	return out
}

// MAC is HMAC-SHA-256 with one key. It keeps the chaining values after
// the key's inner and outer pad blocks, so each MAC costs the hashing of
// the message and one more block. It implements hash.Hash. A MAC is not
// safe for concurrent use.
type MAC struct {
	inner, outer [8]uint32 // state after the key xor ipad / opad block
	d            digest
}

// New returns a MAC keyed with key. A key longer than a block is hashed
// first, as RFC 2104 says.
func New(key []byte) *MAC {
	var pad [BlockSize]byte
	if len(key) > BlockSize {
		s := Sum256(key)
		copy(pad[:], s[:])
	} else {
		copy(pad[:], key)
	}
	m := &MAC{}
	for i := range pad {
		pad[i] ^= 0x36
	}
	m.inner = initial
	blocks(&m.inner, pad[:])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	m.outer = initial
	blocks(&m.outer, pad[:])
	m.Reset()
	return m
}

// Reset starts a new message.
func (m *MAC) Reset() {
	m.d.h, m.d.nb, m.d.len = m.inner, 0, BlockSize
}

// Write adds p to the message. It never fails.
func (m *MAC) Write(p []byte) (int, error) {
	m.d.write(p)
	return len(p), nil
}

// Sum appends the MAC of the message written so far to b. The message is
// not changed, so Write may continue.
func (m *MAC) Sum(b []byte) []byte {
	d := m.d
	var in [Size]byte
	d.sum(in[:0])
	d.h, d.nb, d.len = m.outer, 0, BlockSize
	d.write(in[:])
	return d.sum(b)
}

// Size returns Size.
func (m *MAC) Size() int { return Size }

// BlockSize returns BlockSize.
func (m *MAC) BlockSize() int { return BlockSize }
