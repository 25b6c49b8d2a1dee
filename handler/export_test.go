package handler

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
