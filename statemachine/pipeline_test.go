package statemachine

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// The steps before the wait loop, in order.
var prelude = []string{"ConfigureLakeFormation", "EnsureLFTags", "RegisterLocation", "EnsureDatabase", "GrantTagPermissions", "TestConnection", "StartImport"}

const sixHours = 360 * time.Minute

func TestASLValidator(t *testing.T) {
	validator := filepath.Join(repoRoot(), "node_modules", ".bin", "asl-validator")
	// The file as written (placeholders are not ARNs yet) ...
	out, err := exec.Command(validator, "--json-path", filepath.Join(repoRoot(), "statemachine", "pipeline.asl.json"), "--no-arn-check").CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator: %v\n%s", err, out)
	}
	// ... and as deployed, with every ARN checked.
	f := filepath.Join(t.TempDir(), "deployed.asl.json")
	if err := os.WriteFile(f, []byte(substituted()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(validator, "--json-path", f).CombinedOutput()
	if err != nil {
		t.Fatalf("asl-validator on the substituted definition: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "is valid") {
		t.Fatalf("asl-validator said: %s", out)
	}
}

func TestSuccessPathEndToEnd(t *testing.T) {
	w := newWorld(t, 30*time.Minute, sixHours)
	ex := runLocal(t, map[string]any{"trigger": "manual"}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s\n%v", ex.Status, ex.Error, ex.Cause, ex.entered())
	}
	got := ex.entered()
	if !slices.Equal(got[:len(prelude)], prelude) {
		t.Fatalf("prelude %v", got[:len(prelude)])
	}
	if tail := got[len(got)-3:]; !slices.Equal(tail, []string{"TagOutput", "VerifyQuery", "Succeed"}) {
		t.Fatalf("tail %v", tail)
	}
	// The loop: Wait, status read, Choice; repeated until COMPLETED.
	loop := got[len(prelude) : len(got)-3]
	if len(loop)%3 != 0 || len(loop) == 0 {
		t.Fatalf("loop %v", loop)
	}
	for i := 0; i < len(loop); i += 3 {
		if !slices.Equal(loop[i:i+3], []string{"WaitForImport", "GetImportStatus", "ImportFinished"}) {
			t.Fatalf("loop %v", loop)
		}
	}
	// VerifyQuery and TagOutput get the run id of StartImport.
	runID := "wr_1"
	for _, st := range []string{"TagOutput", "VerifyQuery"} {
		if in := mustJSON(t, w.calls[st][0]); in["runId"] != runID {
			t.Fatalf("%s input %v, want runId %s", st, in, runID)
		}
	}
	out := mustJSON(t, ex.Output)
	imp := out["import"].(map[string]any)
	if imp["completed"] != true || imp["runId"] != runID || imp["status"] != "COMPLETED" {
		t.Fatalf("output import %v", imp)
	}
	if v := out["verification"].(map[string]any); v["verified"] != 2.0 || len(v) != 2 {
		t.Fatalf("verification %v (ResultSelector keeps runId and verified only)", v)
	}
	if _, ok := out["failure"]; ok {
		t.Fatalf("no failure expected: %v", out)
	}
	if n := ex.Transitions(); n > 40 {
		t.Fatalf("%d transitions, budget 40", n)
	}
	// The Wait state waited what the status function asked for.
	for _, ev := range ex.Events {
		if ev.Type == "StateEntered" && ev.State == "WaitForImport" {
			var in struct {
				Import importrun.Run `json:"import"`
			}
			_ = json.Unmarshal(ev.Input, &in)
			if in.Import.WaitSeconds < 1 {
				t.Fatalf("Wait entered with waitSeconds %d", in.Import.WaitSeconds)
			}
		}
	}
}

func TestTransientErrorRetriedThenSuccess(t *testing.T) {
	w := newWorld(t, 20*time.Minute, sixHours)
	w.fail = func(state string, call int) error {
		switch {
		case state == "EnsureLFTags" && call <= 2:
			return &steperr.TransientError{Op: "lakeformation:CreateLFTag", Err: errors.New("ConcurrentModificationException")}
		case state == "RegisterLocation" && call == 1:
			return serviceError("Lambda.TooManyRequestsException")
		}
		return nil
	}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s", ex.Status, ex.Error, ex.Cause)
	}
	if n := ex.retries("EnsureLFTags"); n != 2 {
		t.Fatalf("EnsureLFTags retried %d times, want 2", n)
	}
	if n := ex.retries("RegisterLocation"); n != 1 {
		t.Fatalf("RegisterLocation retried %d times, want 1", n)
	}
	if len(w.calls["EnsureLFTags"]) != 3 {
		t.Fatalf("EnsureLFTags called %d times", len(w.calls["EnsureLFTags"]))
	}
}

func TestTransientErrorThatOutlastsRetriesIsReported(t *testing.T) {
	w := newWorld(t, 20*time.Minute, sixHours)
	w.fail = func(state string, _ int) error {
		if state == "GrantTagPermissions" {
			return &steperr.TransientError{Op: "lakeformation:GrantPermissions", Err: errors.New("Invalid principal")}
		}
		return nil
	}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" || ex.retries("GrantTagPermissions") != 5 {
		t.Fatalf("status %s after %d retries", ex.Status, ex.retries("GrantTagPermissions"))
	}
	if !strings.Contains(ex.Cause, "GrantTagPermissions") || !strings.Contains(ex.Cause, "TransientError") {
		t.Fatalf("cause %s", ex.Cause)
	}
}

func TestPreflightFailureNotifiesThenFails(t *testing.T) {
	w := newWorld(t, 20*time.Minute, sixHours)
	report := "security group sg-0123 has no self-referencing inbound rule. Fix: add an inbound rule for all TCP from sg-0123 itself"
	w.fail = func(state string, _ int) error {
		if state == "TestConnection" {
			return &steperr.PreflightError{Failed: []string{"self-referencing-rule"}, Report: report}
		}
		return nil
	}
	ex := runLocal(t, map[string]any{}, w.handle)
	got := ex.entered()
	if tail := got[len(got)-3:]; !slices.Equal(tail, []string{"DescribeFailure", "NotifyFailure", "Fail"}) {
		t.Fatalf("states %v", got)
	}
	if ex.retries("TestConnection") != 0 {
		t.Fatal("a PreflightError must not be retried")
	}
	if len(w.calls["StartImport"]) != 0 {
		t.Fatal("the import started despite the failed preflight")
	}
	if ex.Status != "FAILED" || ex.Error != "PipelineFailed" {
		t.Fatalf("status %s error %s", ex.Status, ex.Error)
	}
	// The notice names the failed state, its error and its cause; the
	// execution's cause is the same notice.
	var notice struct {
		TopicArn, Subject, Message string
	}
	if err := json.Unmarshal(w.calls["NotifyFailure"][0], &notice); err != nil {
		t.Fatal(err)
	}
	if notice.TopicArn != fakeARN(TopicPlaceholder) || notice.Subject == "" {
		t.Fatalf("notice %+v", notice)
	}
	for _, want := range []string{"test-run", "TestConnection", "PreflightError", "self-referencing inbound rule"} {
		if !strings.Contains(notice.Message, want) {
			t.Errorf("notice lacks %q: %s", want, notice.Message)
		}
	}
	if ex.Cause != notice.Message {
		t.Fatalf("execution cause %q differs from the notice %q", ex.Cause, notice.Message)
	}
}

func TestImportWithFailedActionsFails(t *testing.T) {
	w := newWorld(t, 45*time.Minute, sixHours)
	w.glue.Final.SucceededActions, w.glue.Final.FailedActions = 1, 1
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" {
		t.Fatalf("status %s", ex.Status)
	}
	if !slices.Contains(ex.entered(), "NotifyFailure") || slices.Contains(ex.entered(), "TagOutput") {
		t.Fatalf("states %v", ex.entered())
	}
	for _, want := range []string{"GetImportStatus", "ImportFailedError", "1 failed"} {
		if !strings.Contains(ex.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, ex.Cause)
		}
	}
}

func TestWaitLoopEndsOnCompleted(t *testing.T) {
	for _, d := range []time.Duration{5 * time.Minute, 30 * time.Minute, 3 * time.Hour, sixHours - time.Minute} {
		w := newWorld(t, d, sixHours)
		ex := runLocal(t, map[string]any{}, w.handle)
		if ex.Status != "SUCCEEDED" {
			t.Fatalf("import of %s: %s %s", d, ex.Status, ex.Cause)
		}
		reads := len(w.calls["GetImportStatus"])
		if reads > importrun.MaxPolls {
			t.Fatalf("import of %s: %d status reads, at most %d", d, reads, importrun.MaxPolls)
		}
		if ex.Transitions() > 40 {
			t.Fatalf("import of %s: %d transitions", d, ex.Transitions())
		}
		t.Logf("import of %v: %d status reads, %d transitions, noticed %v after it finished", d, reads, ex.Transitions(), w.noticeDelay().Round(time.Second))
	}
}

func TestWaitLoopEndsOnTotalTimeout(t *testing.T) {
	w := newWorld(t, 10*time.Hour, sixHours)
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" {
		t.Fatalf("status %s", ex.Status)
	}
	if n := len(w.calls["GetImportStatus"]); n != importrun.MaxPolls {
		t.Fatalf("%d status reads before the timeout, want %d", n, importrun.MaxPolls)
	}
	for _, want := range []string{"ImportFailedError", "waitTimeoutMinutes", "RUNNING"} {
		if !strings.Contains(ex.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, ex.Cause)
		}
	}
	// The timeout is judged at the deadline, not long after it.
	if over := w.now.Sub(w.glue.runs[0].started) - sixHours; over < 0 || over > time.Minute {
		t.Fatalf("timed out %v after the deadline", over)
	}
	if ex.Transitions() > 40 {
		t.Fatalf("%d transitions", ex.Transitions())
	}
}

func TestRerunOnConvergedAccountSucceeds(t *testing.T) {
	w := newWorld(t, 25*time.Minute, sixHours)
	first := runLocal(t, map[string]any{}, w.handle)
	w.now = w.now.Add(24 * time.Hour)
	second := runLocal(t, map[string]any{}, w.handle)
	if first.Status != "SUCCEEDED" || second.Status != "SUCCEEDED" {
		t.Fatalf("statuses %s, %s: %s", first.Status, second.Status, second.Cause)
	}
	if w.glue.Starts != 2 {
		t.Fatalf("%d workflow runs started, want one per day", w.glue.Starts)
	}
	if !slices.Equal(first.entered()[:len(prelude)], second.entered()[:len(prelude)]) {
		t.Fatal("the rerun took another path")
	}
}

func TestRunInProgressIsAttachedNotRestarted(t *testing.T) {
	w := newWorld(t, 90*time.Minute, sixHours)
	// Someone started the workflow from the Glue console 40 minutes ago.
	if _, err := w.glue.StartWorkflowRun(nil, nil); err != nil {
		t.Fatal(err)
	}
	w.now = w.now.Add(40 * time.Minute)
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s", ex.Status, ex.Cause)
	}
	if w.glue.Starts != 1 {
		t.Fatalf("%d runs started, want the console's only", w.glue.Starts)
	}
	if imp := mustJSON(t, ex.Output)["import"].(map[string]any); imp["attached"] != true || imp["runId"] != "wr_1" {
		t.Fatalf("import %v", imp)
	}
}

func TestUnexpectedLambdaErrorIsCaught(t *testing.T) {
	w := newWorld(t, 20*time.Minute, sixHours)
	w.fail = func(state string, _ int) error {
		if state == "EnsureDatabase" {
			return serviceError("Runtime.ExitError")
		}
		return nil
	}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" || !strings.Contains(ex.Cause, "Runtime.ExitError") || !strings.Contains(ex.Cause, "EnsureDatabase") {
		t.Fatalf("status %s cause %s", ex.Status, ex.Cause)
	}
}
