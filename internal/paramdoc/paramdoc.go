// Package paramdoc renders the parameter table of the README and
// transform/PARAMS.md from transform.Definitions, the same table the
// parser uses, so the documents cannot drift from the code. Its test
// checks both documents and rewrites them with -update:
//
//	go test ./internal/paramdoc -run TestParamsTableUpToDate -update
package paramdoc

import (
	"strings"

	"github.com/keyhole-dev/keyhole/transform"
)

// Markers around the generated parameter table in PARAMS.md and README.md.
const (
	TableStart = "<!-- params:start -->"
	TableEnd   = "<!-- params:end -->"
)

// MarkdownTable renders the parameter table as GitHub-flavoured Markdown
// with the columns parameter, group, values, default and notes. Values are
// shown under transform.DefaultLimits. Text and watermark rows are marked "token
// only" because transform.Merge ignores them in the query string.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| parameter | group | values | default | notes |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, d := range transform.Definitions() {
		notes := d.Doc
		if d.SecureOnly {
			notes = "**token only**: ignored in the query string. " + notes
		}
		for _, cell := range []string{"`" + d.Name + "`", d.Group, d.Values, d.Default, notes} {
			b.WriteString("| ")
			b.WriteString(strings.ReplaceAll(cell, "|", `\|`))
			b.WriteString(" ")
		}
		b.WriteString("|\n")
	}
	return b.String()
}

// ReplaceTable returns doc with the text between TableStart and TableEnd
// replaced by MarkdownTable, and false when doc lacks the markers in that
// order.
func ReplaceTable(doc string) (string, bool) {
	before, rest, ok := strings.Cut(doc, TableStart)
	if !ok {
		return doc, false
	}
	_, after, ok := strings.Cut(rest, TableEnd)
	if !ok {
		return doc, false
	}
	return before + TableStart + "\n" + MarkdownTable() + TableEnd + after, true
}
