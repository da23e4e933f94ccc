package iamactions

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteThenRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f", "testdata", "iam-actions.txt")
	want := []string{"glue:GetWorkflow", "glue:StartWorkflowRun"}
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read %v, wrote %v", got, want)
	}
	raw, _ := os.ReadFile(path)
	if raw[0] != '#' {
		t.Errorf("file does not start with its explanatory comment: %q", raw)
	}
	if Path("start-import") != filepath.Join("functions", "start-import", "testdata", "iam-actions.txt") {
		t.Errorf("Path = %s", Path("start-import"))
	}
}
