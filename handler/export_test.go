package handler

import (
	"context"
	"runtime"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// OutcomeRow is one row of the outcome table, for the exhaustive test.
type OutcomeRow struct {
	Name       string
	Status     int
	Text       string
	Reason     string
	RetryAfter bool
	Logged     bool
}

// Outcomes returns the outcome table in order.
func Outcomes() []OutcomeRow {
	rows := make([]OutcomeRow, 0, numOutcomes)
	for _, r := range outcomeTable {
		rows = append(rows, OutcomeRow{r.name, r.status, r.text, r.reason, r.retryAfter, r.level != noLog})
	}
	return rows
}

// RejectReasons lists the reason labels of keyhole_transform_rejected_total.
var RejectReasons = rejectReasons

// ErrorKind is errorKind.
var ErrorKind = errorKind

// DummyCost returns the bcrypt cost of a basic protection's dummy hash.
func DummyCost(h *Handler, protection string) int {
	for _, p := range h.protections {
		if p.Name == protection {
			c, _ := bcrypt.Cost(p.dummyHash)
			return c
		}
	}
	return -1
}

// HoldBcryptSlots takes every bcrypt slot and shortens the wait for one to
// d; release gives them back.
func HoldBcryptSlots(h *Handler, d time.Duration) (release func()) {
	n := int64(runtime.NumCPU())
	h.bcrypt.slots.Acquire(context.Background(), n)
	h.bcrypt.wait = d
	return func() { h.bcrypt.slots.Release(n) }
}
