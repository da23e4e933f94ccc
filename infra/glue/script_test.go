package glue

import (
	"os"
	"testing"
)

// Every synthesis writes the script for its asset; the same script always
// lands in the same file, so syntheses (each test, each `make synth`) leave
// one directory per script version in the temporary directory, not one
// per run.
func TestScriptFileIsOneFilePerScriptVersion(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	first, err := ScriptFile()
	if err != nil {
		t.Fatal(err)
	}
	second, err := ScriptFile()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("two syntheses wrote %s and %s", first, second)
	}
	got, err := os.ReadFile(first)
	if err != nil || string(got) != string(ImportJobScript) {
		t.Errorf("%s does not hold import_job.py (%v)", first, err)
	}
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 1 {
		t.Errorf("the temporary directory holds %d entries, want the one script directory", len(entries))
	}
}
