package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// RunInput is the execution input `lakeforge run` sends; the state machine
// ignores it, the trigger tells runs apart in the console.
const RunInput = `{"trigger":"lakeforge-cli"}`

func runCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	follow := fs.Bool("follow", false, "show the run's progress until it ends, then a summary")
	name := fs.String("name", "", "execution name (default: one Step Functions generates)")
	poll := fs.Duration("poll-interval", env.PollInterval, "with --follow, how often to read the execution's history")
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	sess, err := openSession(ctx, g, env, true)
	if err != nil {
		return fail(env, "run", err)
	}
	lc, clients := sess.lc, sess.clients
	stack, err := sess.stack(ctx)
	if err != nil {
		return fail(env, "run", err)
	}
	arn, err := stack.need(stepcontract.OutputStateMachineArn)
	if err != nil {
		return fail(env, "run", err)
	}
	in := &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(RunInput)}
	if *name != "" {
		in.Name = name
	}
	started, err := clients.Executions.StartExecution(ctx, in)
	if err != nil {
		return fail(env, "run", awsError("states:StartExecution", err))
	}
	execArn := aws.ToString(started.ExecutionArn)
	if !*follow {
		if g.output == "json" {
			writeJSON(env.Stdout, map[string]any{"executionArn": execArn, "startDate": aws.ToTime(started.StartDate)})
		} else {
			fmt.Fprintf(env.Stdout, "started %s\nsee it with: lakeforge status -n 1\n", execArn)
		}
		return ExitOK
	}
	var disp display
	switch {
	case g.output == "json":
		disp = &plainDisplay{w: env.Stderr} // progress on stderr, the summary is the JSON on stdout
	case env.Terminal:
		disp = &barDisplay{w: env.Stdout}
	default:
		disp = &plainDisplay{w: env.Stdout}
	}
	f := &follower{
		exec: clients.Executions, glue: clients.Glue, s3: clients.S3,
		workflow: stack.Outputs[stepcontract.OutputWorkflowName], bucket: stack.Outputs[stepcontract.OutputLakeBucketName],
		runsPrefix: runsPrefix(lc), display: disp, now: env.Now, interval: *poll,
	}
	sum, err := f.follow(ctx, execArn)
	if err != nil {
		return fail(env, "run", err)
	}
	if g.output == "json" {
		writeJSON(env.Stdout, sum)
	} else {
		sum.print(env.Stdout)
	}
	if sum.Status != string(sfntypes.ExecutionStatusSucceeded) {
		return ExitProblem
	}
	return ExitOK
}

// runsPrefix is where the import job writes run manifests (pkg/verify).
func runsPrefix(lc loadedConfig) string {
	prefix := "lake/"
	if lc.present {
		prefix = lc.cfg.Lake.Prefix
	}
	return prefix + verify.RunsFolder + "/"
}

// Step is one state of a run, as the history shows it.
type Step struct {
	Name    string    `json:"name"`
	Entered time.Time `json:"entered"`
	Seconds float64   `json:"seconds"`
	Failed  bool      `json:"failed,omitempty"`
}

// TableRows is one imported table of a run, from the run's manifest.
type TableRows struct {
	Table       string `json:"table"`
	RowsWritten int64  `json:"rowsWritten"`
	RowsTotal   int64  `json:"rowsTotal"`
	// Mode and the proof the job made before publishing (rows and checksum
	// equal at the source and in the staged table).
	Mode       string `json:"mode,omitempty"`
	ProofScope string `json:"proofScope,omitempty"`
	ProvenRows int64  `json:"provenRows,omitempty"`
	Checksum   string `json:"checksum,omitempty"`
}

// proofLine is the proof of a table for people, "" when it has none.
func (t TableRows) proofLine() string {
	if t.Checksum == "" {
		return ""
	}
	return fmt.Sprintf("%s: proof over %s: %d rows, checksum %s at the source and in the lake", t.Mode, t.ProofScope, t.ProvenRows, t.Checksum)
}

// RunSummary is the end of a followed run.
type RunSummary struct {
	ExecutionArn    string        `json:"executionArn"`
	Status          string        `json:"status"`
	Start           time.Time     `json:"start"`
	Stop            time.Time     `json:"stop"`
	DurationSeconds float64       `json:"durationSeconds"`
	Steps           []Step        `json:"steps"`
	ImportRunID     string        `json:"importRunId,omitempty"`
	Tables          []TableRows   `json:"tables,omitempty"`
	TablesNote      string        `json:"tablesNote,omitempty"`
	Failure         *Failure      `json:"failure,omitempty"`
	Cost            *CostEstimate `json:"costEstimate,omitempty"`
}

func (s RunSummary) print(w io.Writer) {
	fmt.Fprintf(w, "\nrun %s: %s in %s\n", ShortID(s.ExecutionArn[strings.LastIndex(s.ExecutionArn, ":")+1:]), s.Status, fmtDuration(s.DurationSeconds))
	if s.Failure != nil {
		printFailure(w, "  ", *s.Failure)
	}
	if len(s.Tables) > 0 {
		fmt.Fprintf(w, "  rows per table (import run %s):\n", ShortID(s.ImportRunID))
		for _, t := range s.Tables {
			fmt.Fprintf(w, "    %-40s %10d written, %10d in the lake\n", t.Table, t.RowsWritten, t.RowsTotal)
			if p := t.proofLine(); p != "" {
				fmt.Fprintf(w, "      %s\n", p)
			}
		}
	} else if s.TablesNote != "" {
		fmt.Fprintf(w, "  rows per table: %s\n", s.TablesNote)
	}
	if s.Cost != nil {
		// One part per line: each says what it counts.
		fmt.Fprintf(w, "  cost estimate: $%.4f (%s)\n", s.Cost.TotalUSD, strings.TrimPrefix(costScope, "; "))
		for _, p := range strings.Split(strings.TrimSuffix(s.Cost.Basis, costScope), " + ") {
			fmt.Fprintf(w, "    %s\n", p)
		}
	}
}

func printFailure(w io.Writer, indent string, f Failure) {
	if f.State != "" {
		fmt.Fprintf(w, "%sfailed state: %s\n", indent, f.State)
	}
	fmt.Fprintf(w, "%serror: %s\n%scause: %s\n%sfix: %s\n", indent, f.Error, indent, f.Message, indent, f.Fix)
}

func fmtDuration(sec float64) string {
	return (time.Duration(sec*10) * time.Second / 10).String()
}

// follower polls one execution's history until it ends.
type follower struct {
	exec       ExecutionsAPI
	glue       WorkflowAPI
	s3         ObjectsAPI
	workflow   string
	bucket     string
	runsPrefix string
	display    display
	now        func() time.Time
	interval   time.Duration
}

// follow reports each state as the history shows it and returns the summary.
func (f *follower) follow(ctx context.Context, execArn string) (RunSummary, error) {
	sum := RunSummary{ExecutionArn: execArn}
	var (
		lastID      int64
		current     *Step
		transitions int
		importRun   string
		lastImport  importProgress
	)
	failures := 0
	for {
		events, err := f.newEvents(ctx, execArn, lastID)
		if err != nil {
			// A dropped connection or a throttled poll must not end the
			// watch of an hour-long run; a persistent error does.
			if failures++; failures >= maxPollFailures {
				return sum, err
			}
			events = nil
		} else {
			failures = 0
		}
		done := false
		for _, ev := range events {
			lastID = ev.Id
			ts := aws.ToTime(ev.Timestamp)
			typ := string(ev.Type)
			switch {
			case ev.Type == sfntypes.HistoryEventTypeExecutionStarted:
				sum.Start = ts
			case strings.HasSuffix(typ, "StateEntered") && ev.StateEnteredEventDetails != nil:
				transitions++
				current = &Step{Name: aws.ToString(ev.StateEnteredEventDetails.Name), Entered: ts}
				f.display.stepStarted(current.Name, ts.Sub(sum.Start))
			case strings.HasSuffix(typ, "StateExited") && ev.StateExitedEventDetails != nil:
				name := aws.ToString(ev.StateExitedEventDetails.Name)
				if current != nil && current.Name == name {
					current.Seconds = ts.Sub(current.Entered).Seconds()
					sum.Steps = append(sum.Steps, *current)
					f.display.stepFinished(*current)
					current = nil
				}
				if id := importRunID(aws.ToString(ev.StateExitedEventDetails.Output)); id != "" {
					importRun = id
				}
			case strings.HasSuffix(typ, "Failed") && current != nil && !strings.HasPrefix(typ, "Execution"):
				current.Failed = true
			case ev.Type == sfntypes.HistoryEventTypeExecutionSucceeded:
				sum.Status, sum.Stop, done = string(sfntypes.ExecutionStatusSucceeded), ts, true
				if d := ev.ExecutionSucceededEventDetails; d != nil {
					if id := importRunID(aws.ToString(d.Output)); id != "" {
						importRun = id
					}
				}
			case ev.Type == sfntypes.HistoryEventTypeExecutionFailed:
				sum.Status, sum.Stop, done = string(sfntypes.ExecutionStatusFailed), ts, true
				if d := ev.ExecutionFailedEventDetails; d != nil {
					fl := parseFailure(aws.ToString(d.Error), aws.ToString(d.Cause))
					sum.Failure = &fl
				}
			case ev.Type == sfntypes.HistoryEventTypeExecutionTimedOut:
				sum.Status, sum.Stop, done = string(sfntypes.ExecutionStatusTimedOut), ts, true
				fl := Failure{Error: "States.Timeout", Message: "the execution exceeded the state machine's TimeoutSeconds", Fix: fixFor("States.Timeout", "")}
				sum.Failure = &fl
			case ev.Type == sfntypes.HistoryEventTypeExecutionAborted:
				sum.Status, sum.Stop, done = string(sfntypes.ExecutionStatusAborted), ts, true
				fl := Failure{Error: "Aborted", Message: "someone stopped the execution", Fix: "start a new run with `lakeforge run --follow`"}
				sum.Failure = &fl
			}
		}
		if done {
			break
		}
		if current != nil && strings.Contains(current.Name, "Import") && f.workflow != "" {
			if p, ok := f.importProgress(ctx, importRun, sum.Start); ok && p != lastImport {
				lastImport = p
				if p.runID != "" {
					importRun = p.runID
				}
				f.display.importProgress(p)
			}
		}
		var running time.Duration
		if current != nil {
			running = f.now().Sub(current.Entered)
		}
		f.display.tick(current, running)
		select {
		case <-ctx.Done():
			return sum, &cliError{code: ExitProblem, msg: "stopped following (the run goes on)", fix: "see it later with `lakeforge status`"}
		case <-time.After(f.interval):
		}
	}
	f.display.finish()
	sum.DurationSeconds = sum.Stop.Sub(sum.Start).Seconds()
	sum.ImportRunID = importRun
	sum.Tables, sum.TablesNote = f.tables(ctx, importRun)
	sum.Cost = f.cost(ctx, transitions, importRun)
	return sum, nil
}

// maxPollFailures is how many polls in a row may fail before follow gives up.
const maxPollFailures = 5

// newEvents returns the events after lastID, oldest first. It reads the
// history newest first and stops at the first event already seen, so a
// poll costs one call however long the run has been going.
func (f *follower) newEvents(ctx context.Context, execArn string, lastID int64) ([]sfntypes.HistoryEvent, error) {
	var (
		newest []sfntypes.HistoryEvent
		token  *string
	)
	for page := 0; page < 100; page++ {
		out, err := f.exec.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{
			ExecutionArn: aws.String(execArn), ReverseOrder: true, MaxResults: 100, NextToken: token,
		})
		if err != nil {
			return nil, awsError("states:GetExecutionHistory", err)
		}
		reached := false
		for _, ev := range out.Events {
			if ev.Id <= lastID {
				reached = true
				break
			}
			newest = append(newest, ev)
		}
		if reached || out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	for i, j := 0, len(newest)-1; i < j; i, j = i+1, j-1 {
		newest[i], newest[j] = newest[j], newest[i]
	}
	return newest, nil
}

// importRunID finds the Glue workflow run id in a state's output: the
// pipeline keeps the import's state under $.import and VerifyQuery's under
// $.verification.
func importRunID(output string) string {
	var v struct {
		Import struct {
			RunID string `json:"runId"`
		} `json:"import"`
		Verification struct {
			RunID string `json:"runId"`
		} `json:"verification"`
	}
	if json.Unmarshal([]byte(output), &v) != nil {
		return ""
	}
	if v.Import.RunID != "" {
		return v.Import.RunID
	}
	return v.Verification.RunID
}

// importProgress is what Glue reports about the import workflow run.
type importProgress struct {
	runID         string
	status        string
	actionsDone   int32
	actionsTotal  int32
	tablesDone    int
	tablesTotal   int
	tablesPresent bool
}

// Workflow run properties where the import job reports its table progress.
const (
	PropTablesDone  = "lakeforge.tablesDone"
	PropTablesTotal = "lakeforge.tablesTotal"
)

// importProgress reads the workflow run: the run the pipeline named, else
// the newest run started since the execution.
func (f *follower) importProgress(ctx context.Context, runID string, since time.Time) (importProgress, bool) {
	var run *gluetypes.WorkflowRun
	if runID != "" {
		out, err := f.glue.GetWorkflowRun(ctx, &glue.GetWorkflowRunInput{Name: aws.String(f.workflow), RunId: aws.String(runID)})
		if err != nil {
			return importProgress{}, false
		}
		run = out.Run
	} else {
		out, err := f.glue.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String(f.workflow), MaxResults: aws.Int32(5)})
		if err != nil {
			return importProgress{}, false
		}
		for i := range out.Runs {
			r := &out.Runs[i]
			if !aws.ToTime(r.StartedOn).Before(since.Add(-time.Minute)) && (run == nil || aws.ToTime(r.StartedOn).After(aws.ToTime(run.StartedOn))) {
				run = r
			}
		}
	}
	if run == nil {
		return importProgress{}, false
	}
	p := importProgress{runID: aws.ToString(run.WorkflowRunId), status: string(run.Status)}
	if s := run.Statistics; s != nil {
		p.actionsTotal = s.TotalActions
		p.actionsDone = s.SucceededActions + s.FailedActions + s.TimeoutActions + s.StoppedActions + s.ErroredActions
	}
	var done, total int
	if _, err := fmt.Sscan(run.WorkflowRunProperties[PropTablesDone], &done); err == nil {
		if _, err := fmt.Sscan(run.WorkflowRunProperties[PropTablesTotal], &total); err == nil && total > 0 {
			p.tablesDone, p.tablesTotal, p.tablesPresent = done, total, true
		}
	}
	return p, true
}

// tables reads the rows per table from the import's run manifest.
func (f *follower) tables(ctx context.Context, runID string) ([]TableRows, string) {
	return readManifestTables(ctx, f.s3, f.bucket, f.runsPrefix, runID)
}

func readManifestTables(ctx context.Context, api ObjectsAPI, bucket, prefix, runID string) ([]TableRows, string) {
	if runID == "" {
		return nil, "no import ran"
	}
	if bucket == "" || api == nil {
		return nil, "the stack has no LakeBucketName output"
	}
	key := verify.ManifestKey(prefix, runID)
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Sprintf("no manifest at s3://%s/%s (%v)", bucket, key, shortErr(err))
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 8<<20))
	if err != nil {
		return nil, "cannot read the manifest: " + err.Error()
	}
	m, err := verify.ParseManifest(raw, runID)
	if err != nil {
		return nil, fmt.Sprintf("manifest s3://%s/%s is invalid: %v", bucket, key, err)
	}
	rows := make([]TableRows, 0, len(m.Tables))
	for _, t := range m.Tables {
		r := TableRows{Table: t.Name, RowsWritten: t.RowsWritten, RowsTotal: t.RowsTotal, Mode: t.Mode}
		if t.Proof != nil {
			r.ProofScope, r.ProvenRows, r.Checksum = t.Proof.Scope, t.Proof.LakeRows, t.Proof.LakeChecksum
		}
		rows = append(rows, r)
	}
	return rows, ""
}

func shortErr(err error) string {
	s := err.Error()
	if code := awsretry.Code(err); code != "" {
		return code
	}
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
