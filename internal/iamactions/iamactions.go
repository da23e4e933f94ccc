// Package iamactions reads and writes the file in which each function keeps
// the IAM actions its handler calls: functions/<name>/testdata/iam-actions.txt,
// one action a line, sorted, "#" comments. The function's tests record it
// (pkg/internal/awscalls); the infra tests compare it with the function's
// role in the synthesized template.
package iamactions

import (
	"os"
	"path/filepath"
	"strings"
)

// Path is where a function's action list lives, relative to the module root.
func Path(function string) string {
	return filepath.Join("functions", function, "testdata", "iam-actions.txt")
}

// Read returns the actions listed in the file at path.
func Read(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}

// Write stores sorted, distinct actions at path.
func Write(path string, actions []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	body := "# IAM actions this function's handler calls; checked against its role by infra tests.\n" + strings.Join(actions, "\n") + "\n"
	return os.WriteFile(path, []byte(body), 0o644)
}
