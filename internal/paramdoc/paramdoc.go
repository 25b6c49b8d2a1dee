// Package paramdoc renders the parameter table and the Sirv parity table
// of the README and transform/PARAMS.md from transform.Definitions and
// transform.SirvOptions, the same table the parser uses, so the documents
// cannot drift from the code. Its tests check both documents and rewrite
// them with -update:
//
//	go test ./internal/paramdoc -update
package paramdoc

import (
	"strconv"
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
		writeRow(&b, "`"+d.Name+"`", d.Group, d.Values, d.Default, notes)
	}
	return b.String()
}

// writeRow writes one Markdown table row, escaping | in the cells.
func writeRow(b *strings.Builder, cells ...string) {
	for _, cell := range cells {
		b.WriteString("| ")
		b.WriteString(strings.ReplaceAll(cell, "|", `\|`))
		b.WriteString(" ")
	}
	b.WriteString("|\n")
}

// ReplaceTable returns doc with the text between TableStart and TableEnd
// replaced by MarkdownTable, and false when doc lacks the markers in that
// order.
func ReplaceTable(doc string) (string, bool) {
	return replaceBetween(doc, TableStart, TableEnd, MarkdownTable())
}

// Markers around the generated Sirv parity table in README.md and
// transform/PARAMS.md.
const (
	SirvStart = "<!-- sirv:start -->"
	SirvEnd   = "<!-- sirv:end -->"
)

// SirvTable renders transform.SirvOptions as a Markdown table with the
// columns Sirv option, Sirv values, Sirv default, Keyhole and notes,
// followed by a line of counts.
func SirvTable() string {
	var b strings.Builder
	b.WriteString("| Sirv option | Sirv values | Sirv default | Keyhole | notes |\n")
	b.WriteString("|---|---|---|---|---|\n")
	counts := map[string]int{}
	opts := transform.SirvOptions()
	for _, o := range opts {
		counts[o.Status]++
		status := o.Status
		if o.AliasOf != "" {
			status += ", as `" + o.AliasOf + "`"
		}
		writeRow(&b, "`"+o.Name+"`", o.Sirv, o.SirvDefault, status, o.Note)
	}
	b.WriteString("\n")
	b.WriteString(strconv.Itoa(len(opts)) + " Sirv options: " +
		strconv.Itoa(counts[transform.SirvImplemented]) + " implemented, " +
		strconv.Itoa(counts[transform.SirvDiffers]) + " implemented with a stated difference, " +
		strconv.Itoa(counts[transform.SirvRefused]) + " refused (400 naming the option).\n")
	return b.String()
}

// ReplaceSirvTable returns doc with the text between SirvStart and
// SirvEnd replaced by SirvTable, and false when doc lacks the markers.
func ReplaceSirvTable(doc string) (string, bool) {
	return replaceBetween(doc, SirvStart, SirvEnd, SirvTable())
}

func replaceBetween(doc, start, end, table string) (string, bool) {
	before, rest, ok := strings.Cut(doc, start)
	if !ok {
		return doc, false
	}
	_, after, ok := strings.Cut(rest, end)
	if !ok {
		return doc, false
	}
	return before + start + "\n" + table + end + after, true
}
