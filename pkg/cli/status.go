package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// RunStatus is one past run.
type RunStatus struct {
	Name            string      `json:"name"`
	ExecutionArn    string      `json:"executionArn"`
	Result          string      `json:"result"`
	Start           time.Time   `json:"start"`
	DurationSeconds *float64    `json:"durationSeconds,omitempty"`
	ImportRunID     string      `json:"importRunId,omitempty"`
	Tables          []TableRows `json:"tables,omitempty"`
	TablesNote      string      `json:"tablesNote,omitempty"`
	Failure         *Failure    `json:"failure,omitempty"`
}

// StatusReport is what `lakeforge status` prints.
type StatusReport struct {
	Stack string      `json:"stack"`
	Runs  []RunStatus `json:"runs"`
	// LastGoodImport is the end of the newest succeeded run; FreshnessHours
	// is how long ago that was (nil when no run succeeded).
	LastGoodImport *time.Time `json:"lastGoodImport,omitempty"`
	FreshnessHours *float64   `json:"freshnessHours,omitempty"`
	// Unclassified are, with governance, the columns hidden until a rule
	// classifies them (status_governance.go); UnclassifiedNote says why
	// they could not be read.
	Unclassified     []lakeformation.UnclassifiedColumn `json:"unclassified,omitempty"`
	UnclassifiedNote string                             `json:"unclassifiedNote,omitempty"`
}

// freshnessLookback bounds how many executions status reads to find the
// last good import when none of the last N succeeded.
const freshnessLookback = 100

func statusCommand(ctx context.Context, g *globals, args []string, env Env) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	n := fs.Int("n", 5, "how many of the last runs to show (1 to 100)")
	if ok, code := parse(fs, g, args, env); !ok {
		return code
	}
	if *n < 1 || *n > 100 {
		fmt.Fprintf(env.Stderr, "lakeforge status: -n %d: Fix: use a number from 1 to 100\n", *n)
		return ExitUsage
	}
	sess, err := openSession(ctx, g, env, true)
	if err != nil {
		return fail(env, "status", err)
	}
	lc, clients := sess.lc, sess.clients
	stack, err := sess.stack(ctx)
	if err != nil {
		return fail(env, "status", err)
	}
	arn, err := stack.need(stepcontract.OutputStateMachineArn)
	if err != nil {
		return fail(env, "status", err)
	}
	rep, err := status(ctx, clients, stack, arn, runsPrefix(lc), *n, env.Now())
	if err != nil {
		return fail(env, "status", err)
	}
	if lc.present && lc.cfg.Governance.Enabled {
		rep.Unclassified, rep.UnclassifiedNote = hiddenColumns(ctx, clients, lc.cfg)
	}
	if g.output == "json" {
		writeJSON(env.Stdout, rep)
	} else {
		rep.print(env.Stdout)
	}
	return ExitOK
}

func status(ctx context.Context, c *Clients, stack Stack, smArn, prefix string, n int, now time.Time) (StatusReport, error) {
	rep := StatusReport{Stack: stack.Name, Runs: []RunStatus{}}
	var token *string
	seen := 0
	for seen < freshnessLookback {
		out, err := c.Executions.ListExecutions(ctx, &sfn.ListExecutionsInput{
			StateMachineArn: aws.String(smArn), MaxResults: int32(min(n, 100)), NextToken: token,
		})
		if err != nil {
			return rep, awsError("states:ListExecutions", err)
		}
		for _, e := range out.Executions {
			seen++
			if rep.LastGoodImport == nil && e.Status == sfntypes.ExecutionStatusSucceeded && e.StopDate != nil {
				t := aws.ToTime(e.StopDate)
				rep.LastGoodImport = &t
				h := now.Sub(t).Hours()
				rep.FreshnessHours = &h
			}
			if len(rep.Runs) >= n {
				continue
			}
			run, err := describeRun(ctx, c, stack, aws.ToString(e.ExecutionArn), prefix)
			if err != nil {
				return rep, err
			}
			rep.Runs = append(rep.Runs, run)
		}
		// ListExecutions lists newest first; stop once the N runs and the
		// last good one are known.
		if out.NextToken == nil || (len(rep.Runs) >= n && rep.LastGoodImport != nil) {
			break
		}
		token = out.NextToken
	}
	return rep, nil
}

func describeRun(ctx context.Context, c *Clients, stack Stack, execArn, prefix string) (RunStatus, error) {
	d, err := c.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execArn)})
	if err != nil {
		return RunStatus{}, awsError("states:DescribeExecution", err)
	}
	r := RunStatus{Name: aws.ToString(d.Name), ExecutionArn: execArn, Result: string(d.Status), Start: aws.ToTime(d.StartDate)}
	if d.StopDate != nil {
		sec := d.StopDate.Sub(aws.ToTime(d.StartDate)).Seconds()
		r.DurationSeconds = &sec
	}
	switch d.Status {
	case sfntypes.ExecutionStatusSucceeded:
		r.ImportRunID = importRunID(aws.ToString(d.Output))
		r.Tables, r.TablesNote = readManifestTables(ctx, c.S3, stack.Outputs[stepcontract.OutputLakeBucketName], prefix, r.ImportRunID)
	case sfntypes.ExecutionStatusFailed:
		f := parseFailure(aws.ToString(d.Error), aws.ToString(d.Cause))
		r.Failure = &f
	case sfntypes.ExecutionStatusTimedOut:
		r.Failure = &Failure{Error: "States.Timeout", Message: "the execution exceeded the state machine's TimeoutSeconds", Fix: fixFor("States.Timeout", "")}
	case sfntypes.ExecutionStatusAborted:
		r.Failure = &Failure{Error: "Aborted", Message: "the execution was stopped", Fix: "start a new run with `lakeforge run --follow`"}
	}
	return r, nil
}

func (r StatusReport) print(w io.Writer) {
	if r.FreshnessHours != nil {
		fmt.Fprintf(w, "data freshness: %.1f hours since the last good import (%s)\n", *r.FreshnessHours, r.LastGoodImport.UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "data freshness: no run has succeeded yet")
	}
	r.printUnclassified(w)
	if len(r.Runs) == 0 {
		fmt.Fprintf(w, "no runs of stack %s yet; start one with `lakeforge run --follow`\n", r.Stack)
		return
	}
	for _, run := range r.Runs {
		dur := "running"
		if run.DurationSeconds != nil {
			dur = fmtDuration(*run.DurationSeconds)
		}
		fmt.Fprintf(w, "\n%s  %-9s %-10s %s\n", run.Start.UTC().Format("2006-01-02 15:04:05Z"), run.Result, dur, run.Name)
		for _, t := range run.Tables {
			fmt.Fprintf(w, "    %-40s %10d rows (%d written)\n", t.Table, t.RowsTotal, t.RowsWritten)
			if p := t.proofLine(); p != "" {
				fmt.Fprintf(w, "      %s\n", p)
			}
		}
		if run.TablesNote != "" && run.Result == string(sfntypes.ExecutionStatusSucceeded) {
			fmt.Fprintf(w, "    rows per table: %s\n", run.TablesNote)
		}
		if run.Failure != nil {
			printFailure(w, "    ", *run.Failure)
		}
	}
}
