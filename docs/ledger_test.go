// Package docs holds the project's documents; its test keeps the AWS
// behaviour ledger (aws-behaviour.md) tied to the code and tests it names.
package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ledgerRow is one table row of aws-behaviour.md.
type ledgerRow struct {
	line                                     int
	section                                  string
	assumption, source, code, test, evidence string
}

func readLedger(t *testing.T) []ledgerRow {
	t.Helper()
	f, err := os.Open("aws-behaviour.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []ledgerRow
	section := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "## ") {
			section = strings.TrimPrefix(line, "## ")
			continue
		}
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "| assumption") || strings.HasPrefix(line, "| ---") {
			continue
		}
		cells := splitCells(line)
		if len(cells) != 5 {
			t.Errorf("aws-behaviour.md:%d: %d cells, want 5 (assumption | source | code | test | evidence)", n, len(cells))
			continue
		}
		rows = append(rows, ledgerRow{n, section, cells[0], cells[1], cells[2], cells[3], cells[4]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// splitCells splits a Markdown table row on unescaped pipes.
func splitCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) && line[i+1] == '|' {
			cur.WriteByte('|')
			i++
			continue
		}
		if line[i] == '|' {
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteByte(line[i])
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	link       = regexp.MustCompile(`\]\((https://[^)\s]+)\)`)
	// A test reference: `dir: TestName` (Go) or `dir: test_name` (Python).
	testRef = regexp.MustCompile(`^([A-Za-z0-9_./-]+): ([A-Za-z_][A-Za-z0-9_]*)$`)
)

var evidenceKinds = []string{"moto 5.2.5", "moto rejects", "documents only"}

func TestLedgerRowsNameRealCodeAndTests(t *testing.T) {
	rows := readLedger(t)
	if len(rows) == 0 {
		t.Fatal("aws-behaviour.md has no rows")
	}
	root := ".."
	for _, r := range rows {
		at := func(format string, args ...any) {
			t.Helper()
			t.Errorf("aws-behaviour.md:%d (%s): "+format, append([]any{r.line, r.section}, args...)...)
		}
		if r.assumption == "" {
			at("empty assumption")
		}
		if !link.MatchString(r.source) {
			at("source %q has no https link to the document or issue", r.source)
		}
		files := backticked.FindAllStringSubmatch(r.code, -1)
		if len(files) == 0 {
			at("code %q names no file in backticks", r.code)
		}
		for _, m := range files {
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				at("code file %s does not exist", m[1])
			}
		}
		refs := backticked.FindAllStringSubmatch(r.test, -1)
		if len(refs) == 0 {
			at("test %q names no `dir: TestName`", r.test)
		}
		for _, m := range refs {
			ref := testRef.FindStringSubmatch(m[1])
			if ref == nil {
				at("test %q is not `dir: TestName`", m[1])
				continue
			}
			if !testExists(filepath.Join(root, ref[1]), ref[2]) {
				at("no test %s in %s", ref[2], ref[1])
			}
		}
		ok := false
		for _, k := range evidenceKinds {
			if strings.HasPrefix(r.evidence, k) || strings.HasPrefix(r.evidence, "**"+k) {
				ok = true
			}
		}
		if !ok {
			at("evidence %q must start with one of %q", r.evidence, evidenceKinds)
		}
	}
}

// testExists reports whether a Go test function or a Python test of that
// name is defined in a test file of dir.
func testExists(dir, name string) bool {
	goDef := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(name) + `\(`)
	pyDef := regexp.MustCompile(`(?m)^\s*def ` + regexp.QuoteMeta(name) + `\(`)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		var def *regexp.Regexp
		switch {
		case strings.HasSuffix(n, "_test.go"):
			def = goDef
		case strings.HasSuffix(n, ".py") && (strings.HasPrefix(n, "test_") || strings.HasSuffix(n, "_test.py")):
			def = pyDef
		default:
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err == nil && def.Match(b) {
			return true
		}
	}
	return false
}

func TestSplitCellsKeepsEscapedPipes(t *testing.T) {
	got := splitCells("| a \\| b | c |")
	if len(got) != 2 || got[0] != "a | b" || got[1] != "c" {
		t.Fatalf("splitCells = %q, want [\"a | b\" \"c\"]", got)
	}
}
