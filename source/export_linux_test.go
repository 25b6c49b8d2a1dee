package source

// AllowMemfds lets n more memfd-backed copies exist than exist now (the
// copies of other tests in the binary included), for a test of the
// fallback past the descriptor budget; restore puts the budget back.
func AllowMemfds(n int64) (restore func()) {
	old := maxMemfds
	limit := memfds.Load() + n
	maxMemfds = func() int64 { return limit }
	return func() { maxMemfds = old }
}
