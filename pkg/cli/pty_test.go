package cli

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
)

// buildCLI compiles cmd/lakeforge, so the test sees what main wires: the
// terminal detection and the SDK's default configuration.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lakeforge")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/lakeforge")
	cmd.Dir = localsfn.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// On a real pseudo-terminal `run --follow` draws bars redrawn in place;
// through a pipe the same binary prints plain lines.
func TestRunFollowDrawsProgressBarsOnATerminal(t *testing.T) {
	tasks := &pipelineTasks{importMs: 600}
	f := newFixture(t, tasks.answer)
	f.deployStack()
	runID := f.startWorkflowRun()
	tasks.runID = func() string { return runID }
	f.putManifest(runID, map[string][2]int64{"products": {3, 3}})
	bin := buildCLI(t)
	args := []string{"--cdk-json", filepath.Join(f.dir, "cdk.json"), "run", "--follow", "--poll-interval", "25ms"}

	cmd := exec.Command(bin, args...)
	cmd.Env = os.Environ()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&screen, tty); close(copied) }()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("lakeforge run --follow on a terminal: %v\n%q", err, screen.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no end after 60s:\n%q", screen.String())
	}
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // the pty's reader ends with EIO once the child is gone
	}
	out := screen.String()
	// moto's workflow runs report no actions: the import's part of the
	// live line says it is starting (never "0/0").
	for _, want := range []string{"\r\x1b[K", "█", "░", "/9 steps", "✔", "ConfigureLakeFormation", "VerifyQuery", "import starting", "SUCCEEDED"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	if strings.Contains(out, "0/0") {
		t.Errorf("terminal output counts 0/0:\n%q", out)
	}

	// Piped: no control sequences, one line per state.
	piped := exec.Command(bin, args...)
	piped.Env = os.Environ()
	plain, err := piped.Output()
	if err != nil {
		t.Fatalf("piped: %v\n%s", err, plain)
	}
	if bytes.Contains(plain, []byte("\x1b[")) || bytes.Contains(plain, []byte("\r")) || bytes.Contains(plain, []byte("█")) {
		t.Errorf("piped output has terminal drawing:\n%q", plain)
	}
	if !bytes.Contains(plain, []byte("ConfigureLakeFormation done in")) {
		t.Errorf("piped output lacks the plain state lines:\n%s", plain)
	}
}
