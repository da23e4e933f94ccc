package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// The column security check (governance): as the analyst, one query per
// probe column TagOutput recorded for the run (access.ColumnProbes). An
// allowed column must answer; a column the analysts must not read must be
// refused. A surprise either way is a problem naming the column, its
// sensitivity, the rule behind it and the analysts' grant.

// deniedReasons are the words of Athena's answer when the analyst may not
// see a column: Lake Formation hides the column from the caller's view of
// the table, or refuses the access.
var deniedReasons = []string{"column_not_found", "cannot be resolved", "permission", "access denied", "accessdenied", "not authorized", "insufficient lake formation"}

// columnSecurity returns the problems of the run's column probes, or a
// TransientError when Athena did not answer.
func (v *Verifier) columnSecurity(ctx context.Context, runID string) ([]string, error) {
	probes, problem, err := v.probes(ctx, runID)
	if err != nil || problem != "" {
		if problem != "" {
			return []string{problem}, nil
		}
		return nil, err
	}
	var problems []string
	for _, t := range probes.Tables {
		where := fmt.Sprintf("%s.%s", v.Database, t.Table)
		for _, c := range t.Allowed {
			state, reason, err := v.probe(ctx, t.Table, c.Column)
			if err != nil {
				return nil, err
			}
			if state != athenatypes.QueryExecutionStateSucceeded {
				problems = append(problems, fmt.Sprintf("column security: %s.%s (%s=%s) was refused to the analyst, whose grant %s should give it: %s. Fix: check the column's tag and the analyst's grant with `lakeforge access --table %s --column %s`",
					where, c.Column, v.SensitivityKey, c.Value, probes.Grant, reason, t.Table, c.Column))
			}
		}
		for _, c := range t.Denied {
			state, reason, err := v.probe(ctx, t.Table, c.Column)
			if err != nil {
				return nil, err
			}
			rule := c.Rule
			if rule == "" {
				rule = "no rule: unclassified"
			}
			switch {
			case state == athenatypes.QueryExecutionStateSucceeded:
				problems = append(problems, fmt.Sprintf("column security: %s.%s (%s=%s, %s) answered the analyst, whose grant %s must not give it. Fix: find the grant that gives it with `lakeforge access --table %s --column %s` (an older grant on every column, or a tag on the column that is not the rule's)",
					where, c.Column, v.SensitivityKey, c.Value, rule, probes.Grant, t.Table, c.Column))
			case !denied(reason):
				problems = append(problems, fmt.Sprintf("column security: the analyst's query of %s.%s (%s=%s) failed for another reason than its permissions, so its protection is not proven: %s",
					where, c.Column, v.SensitivityKey, c.Value, reason))
			}
		}
	}
	return problems, nil
}

func denied(reason string) bool {
	r := strings.ToLower(reason)
	for _, w := range deniedReasons {
		if strings.Contains(r, w) {
			return true
		}
	}
	return false
}

// probes reads the run's probes; a missing file is a problem (TagOutput
// writes it for every run with governance).
func (v *Verifier) probes(ctx context.Context, runID string) (access.ColumnProbes, string, error) {
	key := access.ProbesKey(v.RunsPrefix, runID)
	where := "s3://" + v.Bucket + "/" + key
	out, err := v.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(v.Bucket), Key: aws.String(key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return access.ColumnProbes{}, "column security: TagOutput recorded no column classification for run " + runID + " (" + where + "): look at TagOutput's output in this execution", nil
		}
		return access.ColumnProbes{}, "", classifyAWS("s3:GetObject", err, "the verify-query role may read "+where+": redeploy the stack")
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 16<<20))
	if err != nil {
		return access.ColumnProbes{}, "", &steperr.TransientError{Op: "s3:GetObject", Err: err}
	}
	var p access.ColumnProbes
	if err := json.Unmarshal(raw, &p); err != nil || p.RunID != runID {
		return access.ColumnProbes{}, fmt.Sprintf("column security: %s is not TagOutput's record of run %s", where, runID), nil
	}
	return p, "", nil
}

// probe queries one column as the analyst and returns the final state and
// Athena's reason.
func (v *Verifier) probe(ctx context.Context, table, column string) (athenatypes.QueryExecutionState, string, error) {
	query := fmt.Sprintf(`SELECT "%s" FROM "%s"."%s" LIMIT 1`, column, v.Database, table)
	start, err := v.Athena.StartQueryExecution(ctx, v.queryInput(query))
	if err != nil {
		return "", "", v.queryError(table, "athena:StartQueryExecution", err)
	}
	delay := v.PollEvery
	if delay <= 0 {
		delay = 250 * time.Millisecond
	}
	for {
		ex, err := v.Athena.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: start.QueryExecutionId})
		if err != nil {
			return "", "", v.queryError(table, "athena:GetQueryExecution", err)
		}
		if ex.QueryExecution == nil || ex.QueryExecution.Status == nil {
			return "", "", &steperr.TransientError{Op: "athena:GetQueryExecution", Err: errors.New("answer without a status")}
		}
		st := ex.QueryExecution.Status
		switch st.State {
		case athenatypes.QueryExecutionStateSucceeded, athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
			if st.State != athenatypes.QueryExecutionStateSucceeded && st.AthenaError != nil && st.AthenaError.Retryable {
				return "", "", &steperr.TransientError{Op: "athena query on " + table, Err: errors.New(aws.ToString(st.StateChangeReason))}
			}
			return st.State, aws.ToString(st.StateChangeReason), nil
		}
		select {
		case <-ctx.Done():
			return "", "", &steperr.TransientError{Op: "athena query on " + table, Err: ctx.Err()}
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}
