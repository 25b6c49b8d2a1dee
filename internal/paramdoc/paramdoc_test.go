package paramdoc_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/keyhole-dev/keyhole/internal/paramdoc"
	"github.com/keyhole-dev/keyhole/transform"
)

var update = flag.Bool("update", false, "rewrite the parameter table in PARAMS.md and README.md")

// TestParamsTableUpToDate checks that the documents that show the parameter
// table (transform/PARAMS.md and README.md at the repository root) hold
// exactly MarkdownTable(). Run it with -update to
// rewrite them.
func TestParamsTableUpToDate(t *testing.T) {
	for _, path := range []string{"../../transform/PARAMS.md", "../../README.md"} {
		t.Run(path, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, ok := paramdoc.ReplaceTable(string(data))
			if !ok {
				t.Fatalf("%s lacks the %s … %s markers", path, paramdoc.TableStart, paramdoc.TableEnd)
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
			t.Errorf("%s is out of date; run: go test ./internal/paramdoc -run TestParamsTableUpToDate -update", path)
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
