package glue

import (
	"os"
	"regexp"
	"strings"
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

// Every module the script (or a module) imports from this folder is in the
// zip the job gets through --extra-py-files: Glue has no other copy of it.
func TestImportJobModulesHoldEveryLocalImport(t *testing.T) {
	mods := ImportJobModules()
	if len(mods) < 5 {
		t.Fatalf("modules = %d, want the importjob_*.py files", len(mods))
	}
	local := regexp.MustCompile(`(?m)^\s*(?:from|import)\s+(importjob_\w+|local_runtime|conftest)\b`)
	sources := map[string][]byte{ImportJobFile: ImportJobScript}
	for name, raw := range mods {
		sources[name] = raw
	}
	for name, raw := range sources {
		for _, m := range local.FindAllStringSubmatch(string(raw), -1) {
			if !strings.HasPrefix(m[1], "importjob_") {
				t.Errorf("%s imports %s, which exists only in the tests", name, m[1])
				continue
			}
			if _, ok := mods[m[1]+".py"]; !ok {
				t.Errorf("%s imports %s, which the job's modules zip does not hold", name, m[1])
			}
		}
	}
}

// The modules' directory (a CDK directory asset, zipped whole) holds exactly
// the modules, and every synthesis of the same modules uses the same one.
func TestModulesDirIsOneDirectoryPerModulesVersion(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	first, err := ModulesDir()
	if err != nil {
		t.Fatal(err)
	}
	second, err := ModulesDir()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("two syntheses wrote %s and %s", first, second)
	}
	entries, err := os.ReadDir(first)
	if err != nil {
		t.Fatal(err)
	}
	mods := ImportJobModules()
	if len(entries) != len(mods) {
		t.Errorf("%s holds %d files, want the %d modules", first, len(entries), len(mods))
	}
	for _, e := range entries {
		got, err := os.ReadFile(first + "/" + e.Name())
		if want, ok := mods[e.Name()]; !ok || err != nil || string(got) != string(want) {
			t.Errorf("%s in %s is not a module's content (%v)", e.Name(), first, err)
		}
	}
	if top, _ := os.ReadDir(tmp); len(top) != 1 {
		t.Errorf("the temporary directory holds %d entries, want the one modules directory", len(top))
	}
}
