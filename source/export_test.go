package source

import "regexp"

// SignedGets reports whether b reads by presigned GETs, how many URLs it
// signed and how many GETs went to the driver instead.
func SignedGets(b *Bucket) (on bool, signed, fallbacks int64) { return signedState(b.get.signed) }

// StoreSignedGets is SignedGets for a Store.
func StoreSignedGets(s *Store) (on bool, signed, fallbacks int64) { return signedState(s.get.signed) }

func signedState(s *signedGets) (bool, int64, int64) {
	if s == nil {
		return false, 0, 0
	}
	return !s.disabled.Load(), s.signs.Load(), s.fallbacks.Load()
}

var signature = regexp.MustCompile(`X-Amz-Signature=[0-9a-f]+`)

// spoil replaces a URL's signature with a wrong one.
func spoil(u string) string {
	return signature.ReplaceAllString(u, "X-Amz-Signature=0000000000000000000000000000000000000000000000000000000000000000")
}

// SpoilSignedURLs makes every URL b signs from now on carry a wrong
// signature (a store that refuses presigned GETs). Call it before b is
// used.
func SpoilSignedURLs(b *Bucket) { b.get.signed.tamper = spoil }

// SpoilCachedSignedURLs gives every URL b holds a wrong signature, as
// when the credentials that signed them have expired.
func SpoilCachedSignedURLs(b *Bucket) int {
	s := b.get.signed
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, k := range s.urls.Keys() {
		e, _ := s.urls.Peek(k)
		e.url = spoil(e.url)
		s.urls.Add(k, e)
		n++
	}
	return n
}
