package stepcontract

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The placeholders the ASL file uses today (statemachine/pipeline.asl.json).
func TestFunctionArnPlaceholder(t *testing.T) {
	for fn, want := range map[string]string{
		"register-location":        "RegisterLocationFunctionArn",
		"ensure-lf-tags":           "EnsureLfTagsFunctionArn",
		"configure-lake-formation": "ConfigureLakeFormationFunctionArn",
		"verify-query":             "VerifyQueryFunctionArn",
	} {
		if got := FunctionArnPlaceholder(fn); got != want {
			t.Errorf("FunctionArnPlaceholder(%q) = %q, want %q", fn, got, want)
		}
	}
}

func TestEncodeIsJSON(t *testing.T) {
	if got := Encode([]string{"arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"}); got != `["arn:aws:iam::1:role/a","arn:aws:iam::1:role/b"]` {
		t.Errorf("Encode(list) = %s", got)
	}
	if got := Encode([]string{}); got != `[]` {
		t.Errorf("Encode(empty list) = %s, want []", got)
	}
}

// Functions names exactly the folders under functions/ that hold a main.go.
func TestFunctionsAreTheFunctionFolders(t *testing.T) {
	mains, err := filepath.Glob(filepath.Join("..", "..", "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, m := range mains {
		if _, err := os.Stat(m); err == nil {
			folders = append(folders, filepath.Base(filepath.Dir(m)))
		}
	}
	slices.Sort(folders)
	got := slices.Sorted(slices.Values(Functions))
	if !slices.Equal(folders, got) {
		t.Fatalf("functions/ holds %v, Functions lists %v", folders, got)
	}
}
