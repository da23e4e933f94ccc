package glue

import (
	"regexp"
	"strings"
	"testing"
)

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
