package lakeformation

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// UnclassifiedColumnsMetric is the CloudWatch metric TagOutput publishes
// with governance: the number of lake columns no rule classifies
// (dimension Database). The stack alarms when it is above zero.
const UnclassifiedColumnsMetric = "UnclassifiedColumns"

// MetricsAPI publishes metrics; *cloudwatch.Client satisfies it.
type MetricsAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

var _ MetricsAPI = (*cloudwatch.Client)(nil)

// UnclassifiedMetric is where TagOutput publishes UnclassifiedColumnsMetric.
type UnclassifiedMetric struct {
	CloudWatch MetricsAPI
	Namespace  string
}

// TagOutputResult is TagOutput's output: its changes and, with
// governance, the columns it classified and those no rule classifies.
type TagOutputResult struct {
	Step    string   `json:"step"`
	Changes []string `json:"changes"`
	// Columns is how many lake columns governance classified (0 without).
	Columns      int                  `json:"columns"`
	Unclassified []UnclassifiedColumn `json:"unclassified"`
}

// TagOutputInput is what the state machine passes TagOutput: the import's
// workflow run (import-events passes an object without it).
type TagOutputInput struct {
	RunID string `json:"runId"`
}

// Converge is ConvergeRun outside a workflow run: nothing is recorded for
// VerifyQuery.
func (t *TagOutput) Converge(ctx context.Context) (TagOutputResult, error) {
	return t.ConvergeRun(ctx, "")
}

// ConvergeRun tags the database, then (governance) the columns, publishes
// the number of unclassified columns, also when there are none, so the
// alarm clears once they are classified, and records for the run's
// VerifyQuery the columns the analysts must and must not read.
func (t *TagOutput) ConvergeRun(ctx context.Context, runID string) (TagOutputResult, error) {
	res := TagOutputResult{Changes: []string{}, Unclassified: []UnclassifiedColumn{}}
	change, err := tagDatabase(ctx, t.LF, t.Retry, t.Database, t.Tag, false)
	if change != "" {
		res.Changes = append(res.Changes, change)
	}
	if err != nil || t.Columns == nil {
		return res, err
	}
	cols, err := t.Columns.Run(ctx)
	res.Changes = append(res.Changes, cols.Changes...)
	res.Columns = cols.Columns
	if cols.Unclassified != nil {
		res.Unclassified = cols.Unclassified
	}
	if err != nil {
		return res, err
	}
	if t.Metrics != nil {
		if err := t.Metrics.publish(ctx, t.Database, len(res.Unclassified)); err != nil {
			return res, err
		}
	}
	if t.Probes != nil && runID != "" {
		err = t.Probes.record(ctx, runID, cols.Classified)
	}
	return res, err
}

func (m *UnclassifiedMetric) publish(ctx context.Context, database string, n int) error {
	_, err := m.CloudWatch.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String(m.Namespace),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(UnclassifiedColumnsMetric),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Database"), Value: aws.String(database)}},
			Value:      aws.Float64(float64(n)),
			Unit:       cwtypes.StandardUnitCount,
			Timestamp:  aws.Time(time.Now()),
		}},
	})
	return fail("cloudwatch:PutMetricData", "metric "+UnclassifiedColumnsMetric+" in namespace "+m.Namespace, err)
}

// TagOutputHandler is TagOutput's Lambda handler: it returns the
// unclassified columns with the changes (the execution history keeps them)
// and logs each with the configuration line that would classify it.
func TagOutputHandler(step string, t *TagOutput, log *slog.Logger) func(context.Context, TagOutputInput) (TagOutputResult, error) {
	return func(ctx context.Context, in TagOutputInput) (TagOutputResult, error) {
		res, err := t.ConvergeRun(ctx, in.RunID)
		res.Step = step
		for _, u := range res.Unclassified {
			log.WarnContext(ctx, "column not classified: hidden from every persona until a rule classifies it", "table", u.Table, "column", u.Column, "fix", u.Fix)
		}
		if err != nil {
			err = steperr.Normalize(step, err)
			log.ErrorContext(ctx, "step failed", "error", err.Error(), "changes", res.Changes)
			return res, err
		}
		log.InfoContext(ctx, "step converged", "changed", len(res.Changes) > 0, "changes", res.Changes, "columns", res.Columns, "unclassified", len(res.Unclassified))
		return res, nil
	}
}
