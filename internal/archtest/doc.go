// Package archtest holds no code: its test checks the import rules of the
// module's packages (README, "Development"), so that a change which links
// cgo, jwx or a server library where it does not belong fails `make test`.
package archtest
