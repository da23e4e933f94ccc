package importrun_test

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
	"github.com/lakeforge/lakeforge/pkg/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

const workflow = "lakeforge-import"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Emulator tier: the handlers against moto's Glue. moto keeps every
// workflow run RUNNING and has no Statistics, so completion, failed
// actions and ConcurrentRunsExceededException are in the unit tier
// (importrun_test.go) with a stubbed client.
func setup(t *testing.T) (*glue.Client, *awscalls.Recorder, *importrun.Importer) {
	srv := motoserver.Current(t)
	srv.Reset(t)
	admin := glue.NewFromConfig(srv.Config())
	if _, err := admin.CreateWorkflow(motoserver.Context(t), &glue.CreateWorkflowInput{Name: aws.String(workflow), MaxConcurrentRuns: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	rec := &awscalls.Recorder{}
	im := &importrun.Importer{
		Glue:     glue.NewFromConfig(rec.Attach(srv.Config())),
		Workflow: workflow,
		Schedule: importrun.NewSchedule(360 * time.Minute),
		Log:      quiet,
	}
	return admin, rec, im
}

func TestStartThenAttachOnMoto(t *testing.T) {
	_, rec, im := setup(t)
	ctx := motoserver.Context(t)
	first, err := im.Start(ctx, importrun.StartInput{})
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID == "" || first.Attached || first.WaitSeconds != int(importrun.FirstPoll/time.Second) {
		t.Fatalf("first start %+v", first)
	}
	// A second start (a retried or overlapping execution) follows the run
	// in progress instead of failing or starting another.
	second, err := im.Start(ctx, importrun.StartInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Attached || second.RunID != first.RunID || second.WaitSeconds < int(importrun.MinWait/time.Second) {
		t.Fatalf("second start %+v, want attached to %s", second, first.RunID)
	}
	if n := len(rec.Mutating()); n != 1 {
		t.Fatalf("%d mutating calls (%v), want the one StartWorkflowRun", n, rec.Mutating())
	}
	// The status read of a RUNNING run asks to wait.
	st, err := im.Status(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if st.Completed || st.Status != "RUNNING" || st.Polls != 1 || st.WaitSeconds <= 0 {
		t.Fatalf("status %+v", st)
	}
	startActions := rec.Actions()
	rec.Reset()
	if _, err := im.Status(ctx, importrun.Run{RunID: "wr_missing"}); err == nil {
		t.Fatal("unknown run accepted")
	}
	statusActions := rec.Actions()
	awscalls.CheckGolden(t, filepath.Join("..", "..", awscalls.GoldenPath("start-import")), without(startActions, "glue:GetWorkflowRun"))
	awscalls.CheckGolden(t, filepath.Join("..", "..", awscalls.GoldenPath("get-import-status")), statusActions)
}

func TestMissingWorkflowOnMoto(t *testing.T) {
	_, _, im := setup(t)
	im.Workflow = "not-deployed"
	_, err := im.Start(motoserver.Context(t), importrun.StartInput{})
	var pe *steperr.PermanentError
	if !errors.As(err, &pe) || pe.Fix == "" {
		t.Fatalf("want PermanentError with a fix, got %T %v", err, err)
	}
}

func without(actions []string, drop string) []string {
	var out []string
	for _, a := range actions {
		if a != drop {
			out = append(out, a)
		}
	}
	return out
}
