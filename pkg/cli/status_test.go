package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// Two real executions, one good and one failing at TestConnection: status
// lists both newest first, with rows per table for the good one, the
// failing state, cause and fix for the other, and the freshness of the
// good import.
func TestStatusListsRunsWithRowsFailureAndFreshness(t *testing.T) {
	tasks := &pipelineTasks{}
	f := newFixture(t, tasks.answer)
	f.deployStack()
	runID := f.startWorkflowRun()
	tasks.runID = func() string { return runID }
	f.putManifest(runID, map[string][2]int64{"products": {7, 7}})
	if _, errOut, code := f.cli("run", "--name", "good"); code != ExitOK {
		t.Fatal(errOut)
	}
	if err := f.sfn.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	goodEnd := time.Now()
	preflightReport := "subnet: fail: subnet subnet-1 does not exist\n  fix: set network.subnetId to an existing subnet"
	tasks.failAt, tasks.failErr = "TestConnection", &steperr.PreflightError{Failed: []string{"subnet"}, Report: preflightReport}
	if _, errOut, code := f.cli("run", "--name", "bad"); code != ExitOK {
		t.Fatal(errOut)
	}
	if err := f.sfn.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := f.cli("status", "-n", "2", "--output", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep StatusReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rep.Runs) != 2 || rep.Runs[0].Name != "bad" || rep.Runs[1].Name != "good" {
		t.Fatalf("runs %+v, want bad then good", rep.Runs)
	}
	bad, good := rep.Runs[0], rep.Runs[1]
	if bad.Result != "FAILED" || bad.Failure == nil || bad.Failure.State != "TestConnection" || bad.Failure.Error != "PreflightError" ||
		!strings.Contains(bad.Failure.Message, "subnet subnet-1 does not exist") || !strings.Contains(bad.Failure.Fix, "lakeforge preflight") {
		t.Errorf("failed run %+v", bad.Failure)
	}
	if good.Result != "SUCCEEDED" || len(good.Tables) != 1 || good.Tables[0] != (TableRows{Table: "products", RowsWritten: 7, RowsTotal: 7, Mode: "snapshot", ProofScope: "every row", ProvenRows: 7, Checksum: testChecksum}) || good.DurationSeconds == nil {
		t.Errorf("good run %+v", good)
	}
	if rep.FreshnessHours == nil || *rep.FreshnessHours < 0 || *rep.FreshnessHours > time.Since(goodEnd).Hours()+1.0/3600 {
		t.Errorf("freshness %v, want the hours since the good run ended (%s ago)", rep.FreshnessHours, time.Since(goodEnd))
	}

	// The text form says the same for people.
	text, _, _ := f.cli("status", "-n", "2")
	for _, want := range []string{"data freshness: 0.0 hours since the last good import", "SUCCEEDED", "products", "7 rows",
		"snapshot: proof over every row: 7 rows, checksum " + testChecksum + " at the source and in the lake",
		"failed state: TestConnection", "error: PreflightError", "fix: apply the fix listed under each failed check"} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}
}

func TestStatusWithoutRuns(t *testing.T) {
	f := newFixture(t, (&pipelineTasks{runID: func() string { return "" }}).answer)
	f.deployStack()
	out, _, code := f.cli("status")
	if code != ExitOK || !strings.Contains(out, "no run has succeeded yet") || !strings.Contains(out, "start one with `lakeforge run --follow`") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// parseFailure on the cause the DescribeFailure state writes on Step
// Functions, where States.JsonToString escapes the inner Cause (AWS
// intrinsic functions reference); the local runner does not, which the
// run tests cover.
func TestParseFailureOfEscapedCause(t *testing.T) {
	cause := `lakeforge pipeline execution x failed. Failed state with its error and cause: ` +
		`{"VerifyQuery":{"Error":"VerificationError","Cause":"{\"errorMessage\":\"verification failed: products: Athena counted 3, the import wrote 4\",\"errorType\":\"VerificationError\"}"}}`
	got := parseFailure("PipelineFailed", cause)
	want := Failure{State: "VerifyQuery", Error: "VerificationError", Message: "verification failed: products: Athena counted 3, the import wrote 4", Fix: fixFor("VerificationError", "")}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if !strings.Contains(got.Fix, "lakeforge doctor") {
		t.Errorf("fix %q does not point at doctor", got.Fix)
	}
	// A failure outside the Catch (e.g. the execution's own timeout) keeps
	// the execution's error.
	if got := parseFailure("States.Timeout", ""); got.Error != "States.Timeout" || !strings.Contains(got.Fix, "waitTimeoutMinutes") {
		t.Errorf("timeout: %+v", got)
	}
}

// longRunExecutions answers ListExecutions with one succeeded execution that started at start and stopped at stop, as Step
// Functions reports them; the run is 8 hours long, so freshness counted from
// its start and from its end differ by 8 hours.
type longRunExecutions struct {
	ExecutionsAPI
	start, stop time.Time
}

func (e longRunExecutions) ListExecutions(context.Context, *sfn.ListExecutionsInput, ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	return &sfn.ListExecutionsOutput{Executions: []sfntypes.ExecutionListItem{{
		Name: aws.String("long"), ExecutionArn: aws.String("arn:aws:states:us-east-1:1:execution:sm:long"),
		Status: sfntypes.ExecutionStatusSucceeded, StartDate: aws.Time(e.start), StopDate: aws.Time(e.stop),
	}}}, nil
}

// TestFreshnessCountsFromTheEndOfTheLastGoodRun: issue 17. The data is as
// fresh as the end of the last good import (the execution's stop, after
// VerifyQuery), not its start: with a run from 10 to 2 hours ago, status
// says 2 hours.
func TestFreshnessCountsFromTheEndOfTheLastGoodRun(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	c := &Clients{Executions: longRunExecutions{start: now.Add(-10 * time.Hour), stop: now.Add(-2 * time.Hour)}}
	rep, err := status(context.Background(), c, Stack{Name: "lakeforge"}, "arn:aws:states:us-east-1:1:stateMachine:sm", "lake/_lakeforge_runs/", 0, now) // no run rows: freshness only
	if err != nil {
		t.Fatal(err)
	}
	if rep.FreshnessHours == nil || *rep.FreshnessHours != 2 || !rep.LastGoodImport.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("freshness %v hours since %v; want 2 hours since the run's end", deref(rep.FreshnessHours), rep.LastGoodImport)
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
