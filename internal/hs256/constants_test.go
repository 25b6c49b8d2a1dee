package hs256

import (
	"math/big"
	"testing"
)

// TestConstants derives the round constants and the initial hash value
// from their definition in FIPS 180-4 (4.2.2, 5.3.3): the first 32 bits of
// the fractional parts of the cube roots of the first 64 primes, and of
// the square roots of the first 8.
func TestConstants(t *testing.T) {
	var primes []int64
	for n := int64(2); len(primes) < 64; n++ {
		if big.NewInt(n).ProbablyPrime(0) {
			primes = append(primes, n)
		}
	}
	// fraction returns the first 32 fractional bits of the root-th root
	// of p, found by bisection on 200-bit floats.
	fraction := func(p int64, root int) uint32 {
		lo, hi := new(big.Float).SetPrec(200), new(big.Float).SetPrec(200).SetInt64(p)
		for range 150 {
			mid := new(big.Float).Add(lo, hi)
			mid.Quo(mid, big.NewFloat(2))
			pow := new(big.Float).SetPrec(200).SetInt64(1)
			for range root {
				pow.Mul(pow, mid)
			}
			if pow.Cmp(new(big.Float).SetInt64(p)) < 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		whole, _ := lo.Int(nil)
		f := new(big.Float).Sub(lo, new(big.Float).SetInt(whole))
		f.Mul(f, new(big.Float).SetInt64(1<<32))
		v, _ := f.Uint64()
		return uint32(v)
	}
	for i, p := range primes {
		if got := fraction(p, 3); k[i] != got {
			t.Errorf("k[%d] = %#08x, want %#08x (cube root of %d)", i, k[i], got, p)
		}
	}
	for i, p := range primes[:8] {
		if got := fraction(p, 2); initial[i] != got {
			t.Errorf("initial[%d] = %#08x, want %#08x (square root of %d)", i, initial[i], got, p)
		}
	}
}
