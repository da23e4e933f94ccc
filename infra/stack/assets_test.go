package stack

import (
	"debug/elf"
	"os"
	"path/filepath"
	"testing"
)

// The assets the stack deploys are what `make build` promises: one static
// linux/arm64 executable named bootstrap per function (provided.al2023 has
// no Go runtime and no dynamic loader for Go binaries).
func TestEveryFunctionBuildsToAStaticArm64Bootstrap(t *testing.T) {
	root := repoRoot(t)
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(root, "dist", e.Name(), "bootstrap")
		f, err := elf.Open(path)
		if err != nil {
			t.Errorf("%s: %v (run `make build`)", e.Name(), err)
			continue
		}
		if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
			t.Errorf("%s: machine %v class %v, want arm64", e.Name(), f.Machine, f.Class)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: dynamically linked (has an ELF interpreter); build with CGO_ENABLED=0", e.Name())
			}
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 == 0 {
			t.Errorf("%s: bootstrap is not executable", e.Name())
		}
		f.Close()
		checked++
	}
	if checked == 0 {
		t.Fatal("no function was checked")
	}
}
