package transform

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxShownRunes is how much of a rejected value an error repeats; longer
// values are cut and end in "…", so a megabyte of input is never echoed.
const maxShownRunes = 64

// ParamError is one rejected parameter. Name is the parameter's name, or ""
// for a failure of the input as a whole (too many parameters); names that
// come from input (FromArgs) are made safe like values. Value is the
// rejected value made safe to show: cut to 64 characters plus "…", invalid
// UTF-8 and control characters replaced by U+FFFD. Reason is a fixed,
// human-readable sentence fragment; it never contains Go error text.
type ParamError struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// Error returns "name=value: reason", or only the reason when Name is empty.
func (e ParamError) Error() string {
	if e.Name == "" {
		return e.Reason
	}
	return e.Name + "=" + e.Value + ": " + e.Reason
}

// Errors lists every rejected parameter of one input, sorted by name (the
// order among entries of the same name is the order they were found in).
// Parse, Merge and FromArgs return it as *Errors; a handler answers it with
// 400 and either Error() as plain text or the JSON encoding of the struct,
// which is {"errors":[{"name":…,"value":…,"reason":…},…]}.
type Errors struct {
	List []ParamError `json:"errors"`
}

// Error returns one "name=value: reason" line per entry, separated by "\n".
func (e *Errors) Error() string {
	var b strings.Builder
	for i, pe := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(pe.Error())
	}
	return b.String()
}

// Names returns the names of the rejected parameters, sorted, each once.
func (e *Errors) Names() []string {
	names := make([]string, 0, len(e.List))
	for _, pe := range e.List {
		names = append(names, pe.Name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func (e *Errors) add(name, value, reason string) {
	e.List = append(e.List, ParamError{Name: shown(name), Value: shown(value), Reason: reason})
}

// err returns e sorted, or nil (an untyped nil) when e is empty.
func (e *Errors) err() error {
	if len(e.List) == 0 {
		return nil
	}
	slices.SortStableFunc(e.List, func(a, b ParamError) int { return strings.Compare(a.Name, b.Name) })
	return e
}

// shown makes a value safe to repeat in an error: at most maxShownRunes
// characters, no invalid UTF-8 and no control characters.
func shown(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == maxShownRunes {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
