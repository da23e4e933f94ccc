package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
)

// Early in a workflow run Glue reports no actions yet: the progress says
// the job has not started instead of "0/0 workflow actions done", and the
// terminal bar says the import is starting.
func TestImportProgressNeverShowsZeroOfZeroActions(t *testing.T) {
	early := importProgress{runID: "wr_9f8e7d6c5b4a39281706f5e4d3c2b1a0", status: "RUNNING"}
	if got := early.line(); strings.Contains(got, "0/0") || got != "import run wr_9f8e7d6c…: running, its job not started yet" {
		t.Errorf("early line %q", got)
	}
	later := early
	later.actionsDone, later.actionsTotal = 0, 1
	if got := later.line(); got != "import run wr_9f8e7d6c…: running, 0/1 workflow actions done" {
		t.Errorf("later line %q", got)
	}
	var screen bytes.Buffer
	d := &barDisplay{w: &screen}
	d.importProgress(early)
	d.tick(&Step{Name: "StartImport"}, time.Second)
	if !strings.Contains(screen.String(), "import starting") || strings.Contains(screen.String(), "0/0") {
		t.Errorf("bar line %q", screen.String())
	}
}

// The run summary names runs by the start of their ids (the whole ids are
// in --output json) and its cost line says what each figure is: a job run
// shorter than Glue's 1-minute minimum is billed, and described, as one
// minute of its workers (Glue pricing: per second, 1-minute minimum).
func TestRunSummaryShortensIDsAndExplainsTheCost(t *testing.T) {
	dpu, how := jobRunDPUSeconds(gluetypes.JobRun{NumberOfWorkers: aws.Int32(2), WorkerType: gluetypes.WorkerTypeG1x, ExecutionTime: 45})
	if dpu != 120 || how != "2 × G.1X, it ran 45s, billed as Glue's 1-minute minimum" {
		t.Errorf("45 s on 2 G.1X: %v DPU-seconds, %q", dpu, how)
	}
	if dpu, how := jobRunDPUSeconds(gluetypes.JobRun{NumberOfWorkers: aws.Int32(10), WorkerType: gluetypes.WorkerTypeG2x, ExecutionTime: 600}); dpu != 12000 || how != "10 × G.2X for 600s" {
		t.Errorf("600 s on 10 G.2X: %v, %q", dpu, how)
	}
	if _, how := jobRunDPUSeconds(gluetypes.JobRun{ExecutionTime: 45}); how != "" {
		t.Errorf("a job run without workers is priced: %q", how)
	}

	s := RunSummary{
		ExecutionArn: "arn:aws:states:us-east-1:123456789012:execution:lakeforge-pipeline:4c1f0b7e-2a8d-4f31-9d6e-0c5b8a7e6d21",
		Status:       "SUCCEEDED", DurationSeconds: 61.25, ImportRunID: "wr_9f8e7d6c5b4a39281706f5e4d3c2b1a0",
		Tables: []TableRows{{Table: "products", RowsWritten: 25000, RowsTotal: 25000}},
		Cost:   &CostEstimate{TotalUSD: 0.0099, Basis: "Step Functions, 10 state transitions: $0.0003 + Glue import job, 0.033 DPU-hours (2 × G.1X, it ran 45s, billed as Glue's 1-minute minimum) at $0.29: $0.0097; us-east-1 list prices, Lambda, S3 and Athena not included"},
	}
	var out bytes.Buffer
	s.print(&out)
	for _, want := range []string{"\nrun 4c1f0b7e-2a…: SUCCEEDED in 1m1.2s\n", "rows per table (import run wr_9f8e7d6c…):", "  cost estimate: $0.0099 (us-east-1 list prices, Lambda, S3 and Athena not included)\n    Step Functions, 10 state transitions: $0.0003\n    Glue import job, 0.033 DPU-hours (2 × G.1X, it ran 45s, billed as Glue's 1-minute minimum) at $0.29: $0.0097\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
