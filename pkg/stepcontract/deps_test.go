package stepcontract

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The step Lambdas must not link the configuration package (its regular
// expressions and validation) nor time/tzdata (about 450 KB): they read
// their settings through this package's names and types, and the
// configuration package stays in the CDK app and the CLI (issue 11).
func TestStepFunctionsDoNotLinkTheConfigPackage(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	for _, name := range Functions {
		cmd := exec.Command("go", "list", "-deps", "./functions/"+name)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps ./functions/%s: %v\n%s", name, err, out)
		}
		deps := strings.Fields(string(out))
		for _, banned := range []string{"github.com/lakeforge/lakeforge/pkg/config", "time/tzdata"} {
			if slices.Contains(deps, banned) {
				t.Errorf("functions/%s links %s", name, banned)
			}
		}
	}
}
