package statemachine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// The steps before the wait loop, in order.
var prelude = []string{"ConfigureLakeFormation", "EnsureLFTags", "RegisterLocation", "EnsureDatabase", "GrantTagPermissions", "TestConnection", "StartImport"}

const sixHours = 360 * time.Minute

func TestASLValidator(t *testing.T) {
	testtier.External(t, "Node (asl-validator)")
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

// maxTransitions is the goal of issue 10: flat in the import's length.
const maxTransitions = 12

func TestSuccessPathEndToEnd(t *testing.T) {
	w := newWorld(t, 30*time.Minute, sixHours)
	ex := runLocal(t, map[string]any{"trigger": "manual"}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s %s\n%v", ex.Status, ex.Error, ex.Cause, ex.entered())
	}
	want := append(slices.Clone(prelude), "TagOutput", "VerifyQuery", "Succeed")
	if got := ex.entered(); !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v (no polling loop)", got, want)
	}
	// The token went into the store with the run id and left it on release.
	var start struct {
		FunctionName string
		Payload      map[string]string
	}
	if err := json.Unmarshal(w.calls["StartImport"][0], &start); err != nil {
		t.Fatal(err)
	}
	if start.Payload["executionName"] != "test-run" || !strings.HasSuffix(start.Payload["taskToken"], "token") || len(start.Payload) != 2 {
		t.Fatalf("StartImport payload %v, want executionName and taskToken from the context object", start.Payload)
	}
	if len(w.store.items) != 0 {
		t.Fatalf("tokens left in the store: %v", w.store.items)
	}
	if got := w.released(); !slices.Equal(got, []string{"job SUCCEEDED:success"}) {
		t.Fatalf("releases %v, want the job event's", got)
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
	if imp["completed"] != true || imp["runId"] != runID || imp["releasedBy"] != "event" || imp["workflowName"] != workflow {
		t.Fatalf("output import %v", imp)
	}
	if v := out["verification"].(map[string]any); v["verified"] != 2.0 || len(v) != 2 {
		t.Fatalf("verification %v (ResultSelector keeps runId and verified only)", v)
	}
	if _, ok := out["failure"]; ok {
		t.Fatalf("no failure expected: %v", out)
	}
	if n := ex.Transitions(); n > maxTransitions {
		t.Fatalf("%d transitions, goal %d", n, maxTransitions)
	}
	if lag := w.noticeLag(); lag > time.Minute {
		t.Fatalf("noticed %v after the import ended, goal 60 s", lag)
	}
	// A run of the state machine is tagged by its TagOutput state, not twice.
	if len(w.tags.payloads) != 0 {
		t.Fatalf("TagOutput invoked by the event handler for the state machine's own run: %v", w.tags.payloads)
	}
}

func TestTransitionsAreFlatInTheImportLength(t *testing.T) {
	var counts []int
	for _, d := range []time.Duration{5 * time.Minute, 30 * time.Minute, 3 * time.Hour, sixHours - time.Minute} {
		w := newWorld(t, d, sixHours)
		ex := runLocal(t, map[string]any{}, w.handle)
		if ex.Status != "SUCCEEDED" {
			t.Fatalf("import of %s: %s %s", d, ex.Status, ex.Cause)
		}
		counts = append(counts, ex.Transitions())
		if lag := w.noticeLag(); lag > time.Minute {
			t.Fatalf("import of %s noticed %v late", d, lag)
		}
	}
	for _, n := range counts {
		if n != counts[0] || n > maxTransitions {
			t.Fatalf("transitions %v: want the same count, at most %d, whatever the import's length", counts, maxTransitions)
		}
	}
}

func TestLostEventIsReleasedByTheFallback(t *testing.T) {
	w := newWorld(t, 47*time.Minute, sixHours)
	w.events = nil // Glue events are best effort: this one never comes
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s", ex.Status, ex.Cause)
	}
	if got := w.released(); !slices.Equal(got, []string{"fallback:success"}) {
		t.Fatalf("releases %v, want the fallback's", got)
	}
	if lag := w.noticeLag(); lag <= 0 || lag > importrun.FallbackInterval {
		t.Fatalf("noticed %v after the end, want within the fallback interval %v", lag, importrun.FallbackInterval)
	}
	if imp := mustJSON(t, ex.Output)["import"].(map[string]any); imp["releasedBy"] != "fallback" || imp["status"] != "COMPLETED" {
		t.Fatalf("import %v", imp)
	}
	if n := ex.Transitions(); n > maxTransitions {
		t.Fatalf("%d transitions", n)
	}
}

func TestDuplicatedEventIsHarmless(t *testing.T) {
	w := newWorld(t, 30*time.Minute, sixHours)
	w.events = []simEvent{{after: 5 * time.Second, state: "SUCCEEDED"}, {after: 20 * time.Second, state: "SUCCEEDED"}}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s", ex.Status, ex.Cause)
	}
	if got := w.released(); !slices.Equal(got, []string{"job SUCCEEDED:success"}) {
		t.Fatalf("releases %v, want one", got)
	}
	if n := len(w.outcomes); n < 2 || w.outcomes[len(w.outcomes)-1].Ignored == "" {
		t.Fatalf("the duplicate was not handled as a no-op: %+v", w.outcomes)
	}
	if w.sfn.calls != 1 {
		t.Fatalf("%d SendTask calls, want 1", w.sfn.calls)
	}
}

func TestEventOfAnotherRunDoesNotRelease(t *testing.T) {
	w := newWorld(t, 90*time.Minute, sixHours)
	// 30 minutes before this run's end, a job run started by hand outside
	// the workflow succeeds; then this run's own event.
	w.events = []simEvent{{after: -30 * time.Minute, state: "SUCCEEDED", jobRunID: "jr_by_hand"}, {after: 5 * time.Second, state: "SUCCEEDED"}}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s", ex.Status, ex.Cause)
	}
	if lag := w.noticeLag(); lag < 0 || lag > time.Minute {
		t.Fatalf("released %v after the end: the other run's event released it", lag)
	}
	if got := w.released(); !slices.Equal(got, []string{"job SUCCEEDED:success"}) {
		t.Fatalf("releases %v", got)
	}
	// The job run started by hand belongs to no run of the workflow: it is
	// not the lake's import, so it is not tagged (issue 17: before, any
	// SUCCEEDED event no execution waited for invoked TagOutput).
	foreign := slices.ContainsFunc(w.outcomes, func(o importrun.Outcome) bool {
		return !o.Tagged && strings.Contains(o.Ignored, "no recent run of workflow")
	})
	if len(w.tags.payloads) != 0 || !foreign {
		t.Fatalf("TagOutput invocations %v for a job run outside the workflow, want none (outcomes %+v)", w.tags.payloads, w.outcomes)
	}
}

func TestFailedJobFailsTheRunWithGluesMessage(t *testing.T) {
	w := newWorld(t, 45*time.Minute, sixHours)
	w.glue.JobState = types.JobRunStateFailed
	w.events = []simEvent{{after: 5 * time.Second, state: "FAILED", message: "An error occurred while calling o112.jdbc. FATAL: password authentication failed"}}
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" {
		t.Fatalf("status %s", ex.Status)
	}
	if !slices.Contains(ex.entered(), "NotifyFailure") || slices.Contains(ex.entered(), "TagOutput") {
		t.Fatalf("states %v", ex.entered())
	}
	if ex.retries("StartImport") != 0 {
		t.Fatal("an ImportFailedError must not be retried (it would restart the import)")
	}
	for _, want := range []string{"StartImport", "ImportFailedError", "FAILED", "password authentication failed", "jr_1"} {
		if !strings.Contains(ex.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, ex.Cause)
		}
	}
	if n := ex.Transitions(); n > maxTransitions {
		t.Fatalf("%d transitions", n)
	}
	if lag := w.noticeLag(); lag > time.Minute {
		t.Fatalf("noticed %v late", lag)
	}
}

func TestTimedOutAndStoppedJobsFail(t *testing.T) {
	for state, glueState := range map[string]types.JobRunState{"TIMEOUT": types.JobRunStateTimeout, "STOPPED": types.JobRunStateStopped} {
		w := newWorld(t, 45*time.Minute, sixHours)
		w.glue.JobState = glueState
		w.events = []simEvent{{after: 5 * time.Second, state: state, message: "Job run " + state}}
		ex := runLocal(t, map[string]any{}, w.handle)
		if ex.Status != "FAILED" || !strings.Contains(ex.Cause, "ended "+state) {
			t.Fatalf("%s: status %s cause %s", state, ex.Status, ex.Cause)
		}
	}
}

func TestWaitEndsOnTotalTimeout(t *testing.T) {
	w := newWorld(t, 10*time.Hour, sixHours)
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" {
		t.Fatalf("status %s", ex.Status)
	}
	for _, want := range []string{"ImportFailedError", "waitTimeoutMinutes", "RUNNING"} {
		if !strings.Contains(ex.Cause, want) {
			t.Errorf("cause lacks %q: %s", want, ex.Cause)
		}
	}
	// The timeout is judged by the next fallback check after the deadline.
	if over := w.releasedAt.Sub(w.glue.runs[0].started) - sixHours; over < 0 || over > importrun.FallbackInterval {
		t.Fatalf("timed out %v after the deadline", over)
	}
	if ex.Transitions() > maxTransitions {
		t.Fatalf("%d transitions", ex.Transitions())
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
	if _, err := w.glue.StartWorkflowRun(context.Background(), nil); err != nil {
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

// A Lambda function that times out (or runs out of memory) reaches Step
// Functions as Lambda.Unknown; States.Timeout is only the state's own
// TimeoutSeconds. Every step is safe to run again (the access-model steps
// converge, StartImport attaches to the run in progress, VerifyQuery only
// reads), so a long step that timed out is retried once after 30 s, which
// covers a slow AWS answer; a second timeout is reported with its name.
func TestLambdaTimeoutOfALongStepIsRetriedOnceThenReported(t *testing.T) {
	for _, state := range []string{"TestConnection", "VerifyQuery", "StartImport"} {
		t.Run(state, func(t *testing.T) {
			w := newWorld(t, 20*time.Minute, sixHours)
			w.fail = func(s string, call int) error {
				if s == state && call == 1 {
					return serviceError("Lambda.Unknown")
				}
				return nil
			}
			ex := runLocal(t, map[string]any{}, w.handle)
			if ex.Status != "SUCCEEDED" || ex.retries(state) != 1 {
				t.Fatalf("one timeout: status %s after %d retries: %s", ex.Status, ex.retries(state), ex.Cause)
			}
			if state == "StartImport" && w.glue.Starts != 1 {
				t.Fatalf("the retried StartImport started %d runs, want 1", w.glue.Starts)
			}

			w = newWorld(t, 20*time.Minute, sixHours)
			w.fail = func(s string, _ int) error {
				if s == state {
					return serviceError("Lambda.Unknown")
				}
				return nil
			}
			ex = runLocal(t, map[string]any{}, w.handle)
			if ex.Status != "FAILED" || ex.retries(state) != 1 || len(w.calls[state]) != 2 {
				t.Fatalf("two timeouts: status %s, %d retries, %d calls", ex.Status, ex.retries(state), len(w.calls[state]))
			}
			for _, want := range []string{state, "Lambda.Unknown"} {
				if !strings.Contains(ex.Cause, want) {
					t.Errorf("notice lacks %q: %s", want, ex.Cause)
				}
			}
		})
	}
}

func TestLambdaServiceErrorsAreRetried(t *testing.T) {
	for _, name := range []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"} {
		w := newWorld(t, 20*time.Minute, sixHours)
		w.fail = func(s string, call int) error {
			if s == "EnsureDatabase" && call <= 5 {
				return serviceError(name)
			}
			return nil
		}
		ex := runLocal(t, map[string]any{}, w.handle)
		if ex.Status != "SUCCEEDED" || ex.retries("EnsureDatabase") != 5 {
			t.Fatalf("%s: status %s after %d retries", name, ex.Status, ex.retries("EnsureDatabase"))
		}
	}
}

// The fallback sends a heartbeat while the run goes on; when the handler
// cannot run at all (no event, no fallback tick), the wait fails after
// HeartbeatSeconds instead of the state's 24-hour timeout.
func TestHeartbeatEndsAWaitNobodyFollows(t *testing.T) {
	w := newWorld(t, 3*time.Hour, sixHours)
	ex := runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "SUCCEEDED" {
		t.Fatalf("status %s: %s", ex.Status, ex.Cause)
	}
	var beats []time.Time
	for _, b := range w.sfn.beats {
		beats = append(beats, b...)
	}
	if len(beats) < 3*60/10-2 {
		t.Fatalf("%d heartbeats during a 3-hour import, want one per fallback check", len(beats))
	}

	w = newWorld(t, 3*time.Hour, sixHours)
	w.events, w.noFallback = nil, true
	start := w.now
	ex = runLocal(t, map[string]any{}, w.handle)
	if ex.Status != "FAILED" || !strings.Contains(ex.Cause, "States.HeartbeatTimeout") || !strings.Contains(ex.Cause, "StartImport") {
		t.Fatalf("status %s cause %s", ex.Status, ex.Cause)
	}
	if waited := w.now.Sub(start); waited > importrun.HeartbeatTimeout+time.Minute {
		t.Fatalf("failed after %v, want about HeartbeatSeconds (%v)", waited, importrun.HeartbeatTimeout)
	}
	var def struct {
		States map[string]struct{ HeartbeatSeconds int }
	}
	if err := json.Unmarshal([]byte(Pipeline), &def); err != nil {
		t.Fatal(err)
	}
	if got := def.States["StartImport"].HeartbeatSeconds; got != int(importrun.HeartbeatTimeout/time.Second) {
		t.Fatalf("StartImport HeartbeatSeconds %d, want %d (three fallback checks)", got, int(importrun.HeartbeatTimeout/time.Second))
	}
}
