// Package glue embeds the import job's PySpark script, so the CDK app
// publishes the very bytes the Python unit test checks, wherever it runs.
package glue

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"os"
	"path/filepath"
)

// ImportJobScript is import_job.py.
//
//go:embed import_job.py
var ImportJobScript []byte

// ImportJobFile is the script's file name in its asset.
const ImportJobFile = "import_job.py"

// ScriptFile writes the script where a CDK asset can point at it and
// returns that path. The directory is named after the script's content, so
// every synthesis of the same script (each test, each `make synth`) uses
// one directory instead of leaving a new temporary one behind; a new file
// is renamed into place whole, so concurrent syntheses never see half of it.
func ScriptFile() (string, error) {
	sum := sha256.Sum256(ImportJobScript)
	dir := filepath.Join(os.TempDir(), "lakeforge-glue-"+hex.EncodeToString(sum[:8]))
	path := filepath.Join(dir, ImportJobFile)
	if have, err := os.ReadFile(path); err == nil && string(have) == string(ImportJobScript) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ImportJobFile+".*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(ImportJobScript); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}
