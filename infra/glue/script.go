// Package glue embeds the import job's PySpark script and its modules, so
// the CDK app publishes the very bytes the Python tests check, wherever it
// runs.
package glue

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// ImportJobScript is import_job.py.
//
//go:embed import_job.py
var ImportJobScript []byte

// ImportJobFile is the script's file name in its asset.
const ImportJobFile = "import_job.py"

//go:embed importjob_*.py
var modules embed.FS

// ImportJobModules are the script's modules (importjob_*.py), by file
// name: the job gets them as one zip on its Python path (--extra-py-files).
func ImportJobModules() map[string][]byte {
	out := map[string][]byte{}
	names, err := fs.Glob(modules, "importjob_*.py")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		raw, err := modules.ReadFile(name)
		if err != nil {
			panic(err)
		}
		out[name] = raw
	}
	return out
}

// ScriptFile writes the script where a CDK file asset can point at it and
// returns that path.
func ScriptFile() (string, error) {
	dir, err := versionDir("lakeforge-glue-", map[string][]byte{ImportJobFile: ImportJobScript})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ImportJobFile), nil
}

// ModulesDir writes the script's modules into a directory holding only
// them, for a CDK directory asset (the CDK zips it), and returns it.
func ModulesDir() (string, error) {
	return versionDir("lakeforge-glue-modules-", ImportJobModules())
}

// versionDir returns a directory under the temporary directory holding
// exactly files. It is named after their names and content, so every
// synthesis of the same files (each test, each `make synth`) uses one
// directory instead of leaving a new one behind. A new directory is filled
// beside its place and renamed into it whole, so a concurrent synthesis
// never sees (nor zips) half of it.
func versionDir(prefix string, files map[string][]byte) (string, error) {
	sum := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		sum.Write([]byte(name))
		sum.Write([]byte{0})
		sum.Write(files[name])
		sum.Write([]byte{0})
	}
	dir := filepath.Join(os.TempDir(), prefix+hex.EncodeToString(sum.Sum(nil)[:8]))
	if holdsExactly(dir, files) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), prefix+"new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for name, raw := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), raw, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another synthesis renamed its copy first, or a damaged directory
		// is in the way: replace the latter.
		if holdsExactly(dir, files) {
			return dir, nil
		}
		if err := os.RemoveAll(dir); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, dir); err != nil && !holdsExactly(dir, files) {
			return "", err
		}
	}
	return dir, nil
}

// holdsExactly says whether dir holds files and nothing else.
func holdsExactly(dir string, files map[string][]byte) bool {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != len(files) {
		return false
	}
	for _, e := range entries {
		want, ok := files[e.Name()]
		if !ok {
			return false
		}
		have, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || !bytes.Equal(have, want) {
			return false
		}
	}
	return true
}
