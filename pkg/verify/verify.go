package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// S3API reads the run's manifest; a *s3.Client satisfies it.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// AthenaAPI runs the count queries; the client must act as the analyst.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, opts ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, opts ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

// CloudWatchAPI publishes the figures.
type CloudWatchAPI interface {
	PutMetricData(ctx context.Context, in *cloudwatch.PutMetricDataInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error)
}

// Verifier checks one run's tables.
type Verifier struct {
	S3         S3API
	Athena     AthenaAPI // built with the analyst role's credentials
	CloudWatch CloudWatchAPI

	Bucket      string // lake bucket
	RunsPrefix  string // e.g. "lake/_lakeforge_runs/"
	Database    string // output database
	TablePrefix string // database.tablePrefix, the prefix of the lake tables' names
	Workgroup   string
	AnalystRole string // for messages only: the Athena client already assumes it
	Namespace   string // CloudWatch namespace
	// Tolerance is the fraction by which Athena's count may differ.
	Tolerance float64
	// Concurrency bounds the queries in flight (default 4).
	Concurrency int
	// PollEvery is the first delay between query status reads (default 250ms).
	PollEvery time.Duration
	// ColumnSecurity (governance) also proves, as the analyst, the
	// column probes TagOutput recorded (columns.go); SensitivityKey names
	// the tag in messages.
	ColumnSecurity bool
	SensitivityKey string
	// SettleFor is how long a count that fails as a table tagged moments
	// ago does ("table not found", insufficient Lake Formation
	// permission) is retried before it is a problem (default
	// DefaultSettleFor; negative: never retried).
	SettleFor time.Duration
	// Now and Sleep are the clock of those retries; nil uses the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
}

// Input is the VerifyQuery event: the run to verify.
type Input struct {
	RunID string `json:"runId"`
}

// TableResult is the outcome for one table.
type TableResult struct {
	Table    string `json:"table"`
	Imported int64  `json:"imported"`
	Queried  int64  `json:"queried"`
	OK       bool   `json:"ok"`
	// Mode, ProvenRows and Checksum are the job's proof from the manifest:
	// the rows and the checksum the source and the staged table agreed on
	// (over every row, or the rows added by an incremental run).
	Mode       string `json:"mode,omitempty"`
	ProofScope string `json:"proofScope,omitempty"`
	ProvenRows int64  `json:"provenRows,omitempty"`
	Checksum   string `json:"checksum,omitempty"`
}

// Output is kept by the state machine ($.verification).
type Output struct {
	RunID    string        `json:"runId"`
	Verified int           `json:"verified"`
	Tables   []TableResult `json:"tables"`
	// MetricsError says why the figures were not published to CloudWatch,
	// when they were not; it never changes the verdict.
	MetricsError string `json:"metricsError,omitempty"`
}

func (v *Verifier) log() *slog.Logger {
	if v.Log != nil {
		return v.Log
	}
	return slog.Default()
}

// Verify reads the manifest, counts every table as the analyst, judges,
// then publishes the figures: it fails with VerificationError listing every
// table that cannot be queried or whose count differs beyond the tolerance
// (or with the TransientError of a count that could not be made).
//
// The verdict is made before the figures are published, and a CloudWatch
// failure never hides or changes it: a failed verification is returned as
// it is, and a good one stays good (the data is verified and fresh; the
// dashboard misses the day's figures), with the failure in
// Output.MetricsError and a warning in the log.
func (v *Verifier) Verify(ctx context.Context, in Input) (Output, error) {
	if strings.TrimSpace(in.RunID) == "" || strings.ContainsAny(in.RunID, "/\\") {
		return Output{}, &steperr.InvalidInputError{Field: "runId", Fix: "pass the workflow run id of StartImport (the state machine sends {\"runId.$\": \"$.import.runId\"})"}
	}
	m, err := v.manifest(ctx, in.RunID)
	if err != nil {
		return Output{}, err
	}
	results := make([]TableResult, len(m.Tables))
	problems := make([]string, len(m.Tables))
	transient := make([]error, len(m.Tables))
	conc := v.Concurrency
	if conc <= 0 {
		conc = 4
	}
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	for i, t := range m.Tables {
		wg.Add(1)
		// Taking the slot before starting the goroutine starts the queries
		// in manifest order.
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			table := v.TablePrefix + t.Name
			results[i] = TableResult{Table: table, Imported: t.RowsTotal, Queried: -1, Mode: t.Mode}
			if t.Proof != nil {
				results[i].ProofScope, results[i].ProvenRows, results[i].Checksum = t.Proof.Scope, t.Proof.LakeRows, t.Proof.LakeChecksum
			}
			n, err := v.settledCount(ctx, table)
			if err != nil {
				var te *steperr.TransientError
				if errors.As(err, &te) {
					transient[i] = te
				} else {
					problems[i] = err.Error()
				}
				return
			}
			results[i].Queried = n
			if within(n, t.RowsTotal, v.Tolerance) {
				results[i].OK = true
			} else {
				problems[i] = fmt.Sprintf("%s.%s: Athena counts %d rows, the import recorded %d (tolerance %g)", v.Database, table, n, t.RowsTotal, v.Tolerance)
			}
		}()
	}
	wg.Wait()
	out := Output{RunID: in.RunID, Tables: results}
	for _, r := range results {
		if r.OK {
			out.Verified++
		}
	}
	if v.ColumnSecurity {
		// Governance: the column probes TagOutput recorded (columns.go),
		// judged with the counts.
		more, err := v.columnSecurity(ctx, in.RunID)
		if err != nil {
			transient = append(transient, err)
		}
		problems = append(problems, more...)
	}
	verdict := judge(transient, problems)
	if err := v.publish(ctx, results); err != nil {
		out.MetricsError = err.Error()
		v.log().Warn("the figures were not published to CloudWatch; the verdict stands", "runId", in.RunID, "error", err.Error(), "verified", verdict == nil)
	}
	if verdict != nil {
		return out, verdict
	}
	for _, r := range results {
		if r.Checksum != "" {
			v.log().Info("proof before publish", "table", r.Table, "mode", r.Mode, "scope", r.ProofScope, "rows", r.ProvenRows, "checksum", r.Checksum)
		}
	}
	v.log().Info("verified every imported table", "runId", in.RunID, "tables", len(results))
	return out, nil
}

// judge is the verdict on the counts: the first count that could not be
// made (retrying can help), else every problem found, else nil.
func judge(transient []error, problems []string) error {
	for _, err := range transient {
		if err != nil {
			return err
		}
	}
	var list []string
	for _, p := range problems {
		if p != "" {
			list = append(list, p)
		}
	}
	if len(list) > 0 {
		return &steperr.VerificationError{Problems: list}
	}
	return nil
}

// within says whether got is within tol (a fraction) of want.
func within(got, want int64, tol float64) bool {
	diff := math.Abs(float64(got - want))
	return diff <= tol*float64(want)
}

func (v *Verifier) manifest(ctx context.Context, runID string) (Manifest, error) {
	key := ManifestKey(v.RunsPrefix, runID)
	where := "s3://" + v.Bucket + "/" + key
	out, err := v.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(v.Bucket), Key: aws.String(key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return Manifest{}, &steperr.VerificationError{Problems: []string{
				"no row counts recorded for run " + runID + ": " + where + " does not exist; the import job writes it at its end, so look at the job run of this workflow run in the Glue console and its logs",
			}}
		}
		return Manifest{}, classifyAWS("s3:GetObject", err, "the verify-query role may read "+where+": redeploy the stack")
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 16<<20))
	if err != nil {
		return Manifest{}, &steperr.TransientError{Op: "s3:GetObject", Err: err}
	}
	m, err := ParseManifest(raw, runID)
	if err != nil {
		return Manifest{}, &steperr.VerificationError{Problems: []string{"manifest " + where + ": " + err.Error()}}
	}
	return m, nil
}

// queryInput starts query in the analysts' workgroup (whose settings
// apply to every query in it) with the lake database as its context:
// without one Athena resolves the query in `default`, on which the analyst
// may have no Lake Formation permission (docs/aws-behaviour.md, Athena).
func (v *Verifier) queryInput(query string) *athena.StartQueryExecutionInput {
	return &athena.StartQueryExecutionInput{
		QueryString:           aws.String(query),
		WorkGroup:             aws.String(v.Workgroup),
		QueryExecutionContext: &athenatypes.QueryExecutionContext{Catalog: aws.String("AwsDataCatalog"), Database: aws.String(v.Database)},
	}
}

// count runs SELECT COUNT(*) on one table as the analyst.
func (v *Verifier) count(ctx context.Context, table string) (int64, error) {
	query := fmt.Sprintf(`SELECT COUNT(*) FROM "%s"."%s"`, v.Database, table)
	start, err := v.Athena.StartQueryExecution(ctx, v.queryInput(query))
	if err != nil {
		return 0, v.queryError(table, "athena:StartQueryExecution", err)
	}
	id := start.QueryExecutionId
	delay := v.PollEvery
	if delay <= 0 {
		delay = 250 * time.Millisecond
	}
	for {
		ex, err := v.Athena.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: id})
		if err != nil {
			return 0, v.queryError(table, "athena:GetQueryExecution", err)
		}
		if ex.QueryExecution == nil || ex.QueryExecution.Status == nil {
			return 0, &steperr.TransientError{Op: "athena:GetQueryExecution", Err: errors.New("answer without a status")}
		}
		st := ex.QueryExecution.Status
		switch st.State {
		case athenatypes.QueryExecutionStateSucceeded:
			return v.result(ctx, table, id)
		case athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
			reason := aws.ToString(st.StateChangeReason)
			if st.AthenaError != nil && (st.AthenaError.Retryable || aws.ToInt32(st.AthenaError.ErrorCategory) == 1) {
				return 0, &steperr.TransientError{Op: "athena query on " + table, Err: errors.New(reason)}
			}
			if st.State == athenatypes.QueryExecutionStateCancelled {
				// Nothing here cancels a query: Athena cancels one that scans
				// more than the workgroup's per-query cutoff.
				return 0, fmt.Errorf("%s.%s: Athena cancelled the count query: %s. Fix: a query that scans more than the workgroup's bytes-scanned cutoff is cancelled; raise athena.bytesScannedCutoffPerQuery (workgroup %s) and redeploy, or find who cancelled query %s in CloudTrail", v.Database, table, reason, v.Workgroup, aws.ToString(id))
			}
			return 0, &analystQueryError{reason: reason, msg: fmt.Sprintf("%s.%s: the analyst cannot query it: %s%s", v.Database, table, reason, hint(reason))}
		}
		select {
		case <-ctx.Done():
			return 0, &steperr.TransientError{Op: "athena query on " + table, Err: ctx.Err()}
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
	}
}

func (v *Verifier) result(ctx context.Context, table string, id *string) (int64, error) {
	res, err := v.Athena.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: id})
	if err != nil {
		return 0, v.queryError(table, "athena:GetQueryResults", err)
	}
	if res.ResultSet != nil {
		// The first row of a SELECT's results is the header.
		for _, row := range res.ResultSet.Rows {
			if len(row.Data) == 0 {
				continue
			}
			if n, err := strconv.ParseInt(aws.ToString(row.Data[0].VarCharValue), 10, 64); err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("%s.%s: the count query returned no number", v.Database, table)
}

// hint adds the likely fix for the usual reasons an analyst cannot query.
func hint(reason string) string {
	r := strings.ToLower(reason)
	switch {
	case strings.Contains(r, "lake formation") || strings.Contains(r, "permission"):
		return ". Fix: the analyst needs SELECT through the analyst LF-tag: check that TagOutput tagged the database and that GrantTagPermissions granted the analyst role"
	case strings.Contains(r, "not found") || strings.Contains(r, "does not exist"):
		return ". Fix: the import job did not register this table in the lake database; look at the import job's last run (its CloudWatch logs) in the Glue console"
	}
	return ""
}

// queryError classifies an Athena API error: throttling is transient; a
// denied call (including the analyst role refusing to be assumed) is a
// verification failure, since it is exactly what an analyst would hit.
func (v *Verifier) queryError(table, op string, err error) error {
	if assumeRoleFailed(err) {
		if d := steperr.AWSDetail(err); d != "" && !awsretry.Transient(err) {
			return fmt.Errorf("%s.%s: the verify-query function cannot assume the analyst role %s (%s). Fix: the analyst role's trust policy must allow sts:AssumeRole to the verify-query function's role, and that role's policy must allow sts:AssumeRole on %s; redeploy the stack, or see docs/operations.md (Analyst role for verification) for an existing role", v.Database, table, v.AnalystRole, d, v.AnalystRole)
		}
		return &steperr.TransientError{Op: "sts:AssumeRole", Err: err}
	}
	code := awsretry.Code(err)
	switch {
	case code == "" && strings.Contains(err.Error(), "AssumeRole"):
		return fmt.Errorf("%s.%s: the verify-query function cannot assume the analyst role %s: %v. Fix: add the function's role to the analyst role's trust policy (docs/operations.md, Analyst role for verification)", v.Database, table, v.AnalystRole, err)
	case code == "" || awsretry.Transient(err):
		// No answer, throttling or a service failure: the state machine retries.
		return &steperr.TransientError{Op: op, Err: err}
	case strings.Contains(code, "AccessDenied"):
		return fmt.Errorf("%s.%s: the analyst role %s may not query (%s): %v. Fix: the role needs athena:StartQueryExecution on workgroup %s, and its trust policy must let the verify-query function's role assume it", v.Database, table, v.AnalystRole, op, err, v.Workgroup)
	}
	return fmt.Errorf("%s.%s: %s: %v", v.Database, table, op, err)
}

// assumeRoleFailed reports whether err is the analyst credentials failing:
// the STS AssumeRole call the Athena client makes to get them.
func assumeRoleFailed(err error) bool {
	for e := err; e != nil; {
		var op *smithy.OperationError
		if !errors.As(e, &op) {
			return false
		}
		if op.ServiceID == "STS" && op.OperationName == "AssumeRole" {
			return true
		}
		e = op.Err
	}
	return false
}

// classifyAWS turns an S3 or CloudWatch error into a step error: transient
// as awsretry classifies it (an answer-less failure included), otherwise
// permanent with fix.
func classifyAWS(op string, err error, fix string) error {
	if awsretry.Code(err) != "" && !awsretry.Transient(err) {
		return &steperr.PermanentError{Op: op, Err: err, Fix: fix}
	}
	return &steperr.TransientError{Op: op, Err: err}
}

// publish puts two figures per table (rows imported, rows Athena counts)
// and the number of mismatched tables; Verify calls it after judging.
func (v *Verifier) publish(ctx context.Context, results []TableResult) error {
	now := time.Now()
	var data []cwtypes.MetricDatum
	mismatched := 0.0
	for _, r := range results {
		dims := []cwtypes.Dimension{{Name: aws.String("Database"), Value: aws.String(v.Database)}, {Name: aws.String("Table"), Value: aws.String(r.Table)}}
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("ImportedRows"), Dimensions: dims, Value: aws.Float64(float64(r.Imported)), Unit: cwtypes.StandardUnitCount, Timestamp: &now})
		if r.Queried >= 0 {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String("QueriedRows"), Dimensions: dims, Value: aws.Float64(float64(r.Queried)), Unit: cwtypes.StandardUnitCount, Timestamp: &now})
		}
		if !r.OK {
			mismatched++
		}
	}
	data = append(data, cwtypes.MetricDatum{
		MetricName: aws.String("TablesFailingVerification"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("Database"), Value: aws.String(v.Database)}},
		Value:      aws.Float64(mismatched), Unit: cwtypes.StandardUnitCount, Timestamp: &now,
	})
	// PutMetricData takes up to 1000 data per call.
	for len(data) > 0 {
		n := min(len(data), 1000)
		if _, err := v.CloudWatch.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String(v.Namespace), MetricData: data[:n]}); err != nil {
			return classifyAWS("cloudwatch:PutMetricData", err, "the verify-query role may put metrics in namespace "+v.Namespace+": redeploy the stack")
		}
		data = data[n:]
	}
	return nil
}
