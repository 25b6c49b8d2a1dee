package paramdoc_test

import (
	"errors"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/internal/paramdoc"
	"github.com/keyhole-dev/keyhole/transform"
)

var update = flag.Bool("update", false, "rewrite the parameter table in PARAMS.md and README.md")

// TestParamsTableUpToDate checks that the documents that show the parameter
// table (transform/PARAMS.md and README.md at the repository root) hold
// exactly MarkdownTable(). Run it with -update to rewrite them.
func TestParamsTableUpToDate(t *testing.T) {
	checkDocuments(t, paramdoc.ReplaceTable, paramdoc.TableStart, paramdoc.TableEnd)
}

// TestSirvTableUpToDate checks that README.md and transform/PARAMS.md
// hold exactly SirvTable(); run it with -update to rewrite them.
func TestSirvTableUpToDate(t *testing.T) {
	checkDocuments(t, paramdoc.ReplaceSirvTable, paramdoc.SirvStart, paramdoc.SirvEnd)
}

// checkDocuments checks (or with -update rewrites) the generated table
// between start and end in both documents.
func checkDocuments(t *testing.T, replace func(string) (string, bool), start, end string) {
	for _, path := range []string{"../../transform/PARAMS.md", "../../README.md"} {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := replace(string(data))
			if !ok {
				t.Fatalf("%s lacks the %s … %s markers", path, start, end)
			}
			if want == string(data) {
				return
			}
			if *update {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			t.Errorf("%s is out of date; run: go test ./internal/paramdoc -update", path)
		})
	}
}

// TestSirvTableMatchesParser checks every row of the parity table against
// the parser itself: an implemented option's example value parses, and
// means the same as the same value under the parameter it is an alias
// of; a refused option's value is a 400 that names the option and says
// it is not supported. The table's count line matches the rows.
func TestSirvTableMatchesParser(t *testing.T) {
	opts := transform.SirvOptions()
	rows := strings.Count(paramdoc.SirvTable(), "\n| `")
	if rows != len(opts) {
		t.Fatalf("table has %d rows, SirvOptions %d", rows, len(opts))
	}
	for _, o := range opts {
		t.Run(o.Name, func(t *testing.T) {
			if !transform.Known(o.Name) {
				t.Errorf("Known(%q) = false", o.Name)
			}
			p, err := transform.Parse(map[string]string{o.Name: o.Example}, transform.Limits{})
			switch o.Status {
			case transform.SirvRefused:
				var errs *transform.Errors
				if !errors.As(err, &errs) || len(errs.List) != 1 || errs.List[0].Name != o.Name ||
					!strings.HasPrefix(errs.List[0].Reason, "not supported by Keyhole: ") {
					t.Fatalf("Parse(%s=%s) = %v, want a refusal naming it", o.Name, o.Example, err)
				}
				if o.Note == "" {
					t.Error("refused without a reason")
				}
			default:
				if err != nil {
					t.Fatalf("Parse(%s=%s): %v", o.Name, o.Example, err)
				}
				if o.Status == transform.SirvDiffers && o.Note == "" {
					t.Error("differs without a note")
				}
				if o.AliasOf != "" {
					q, err := transform.Parse(map[string]string{o.AliasOf: o.Example}, transform.Limits{})
					if err != nil || !reflect.DeepEqual(q, p) {
						t.Errorf("%s=%s parses to %+v, %s to %+v (%v)", o.Name, o.Example, p, o.AliasOf, q, err)
					}
				} else if !p.NeedsProcessing() && o.Name != "profile" && o.Name != "format" {
					t.Errorf("%s=%s changes nothing", o.Name, o.Example)
				}
			}
		})
	}
}

func TestMarkdownTable(t *testing.T) {
	table := paramdoc.MarkdownTable()
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	defs := transform.Definitions()
	if len(lines) != len(defs)+2 {
		t.Fatalf("table has %d lines, want %d", len(lines), len(defs)+2)
	}
	for i, d := range defs {
		line := lines[i+2]
		if !strings.HasPrefix(line, "| `"+d.Name+"` | "+d.Group+" | ") {
			t.Errorf("row %d = %q, want parameter %s", i, line, d.Name)
		}
		if got := strings.Count(line, " | "); got != 4 {
			t.Errorf("row %s has %d inner separators, want 4", d.Name, got)
		}
		if marked := strings.Contains(line, "token only"); marked != d.SecureOnly {
			t.Errorf("row %s token-only marker = %v, want %v", d.Name, marked, d.SecureOnly)
		}
	}
}

func TestReplaceTable(t *testing.T) {
	doc := "intro\n" + paramdoc.TableStart + "\nold\n" + paramdoc.TableEnd + "\noutro\n"
	got, ok := paramdoc.ReplaceTable(doc)
	want := "intro\n" + paramdoc.TableStart + "\n" + paramdoc.MarkdownTable() + paramdoc.TableEnd + "\noutro\n"
	if !ok || got != want {
		t.Errorf("ReplaceTable = %q, %v", got, ok)
	}
	for _, bad := range []string{"no markers", paramdoc.TableEnd + paramdoc.TableStart, paramdoc.TableStart + " only start"} {
		if got, ok := paramdoc.ReplaceTable(bad); ok || got != bad {
			t.Errorf("ReplaceTable(%q) = %q, %v; want it unchanged and false", bad, got, ok)
		}
	}
}
