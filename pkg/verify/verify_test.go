package verify_test

// Unit tier: a stubbed Athena client, for what moto cannot produce (a
// query that FAILS with Athena's reasons, a denied StartQueryExecution,
// throttling) and for the manifest checks.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

type stubS3 struct{ body string }

func (s stubS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(s.body))}, nil
}

type stubAthena struct {
	count    string // the COUNT(*) a succeeded query answers
	startErr error
	state    athenatypes.QueryExecutionState
	reason   string
	athErr   *athenatypes.AthenaError
}

func (a stubAthena) StartQueryExecution(context.Context, *athena.StartQueryExecutionInput, ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	if a.startErr != nil {
		return nil, a.startErr
	}
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String("q1")}, nil
}

func (a stubAthena) GetQueryExecution(context.Context, *athena.GetQueryExecutionInput, ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	return &athena.GetQueryExecutionOutput{QueryExecution: &athenatypes.QueryExecution{Status: &athenatypes.QueryExecutionStatus{
		State: a.state, StateChangeReason: aws.String(a.reason), AthenaError: a.athErr,
	}}}, nil
}

func (a stubAthena) GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	if a.count == "" {
		return &athena.GetQueryResultsOutput{}, nil
	}
	row := func(v string) athenatypes.Row {
		return athenatypes.Row{Data: []athenatypes.Datum{{VarCharValue: aws.String(v)}}}
	}
	return &athena.GetQueryResultsOutput{ResultSet: &athenatypes.ResultSet{Rows: []athenatypes.Row{row("_col0"), row(a.count)}}}, nil
}

type stubCW struct{ calls *int }

func (c stubCW) PutMetricData(context.Context, *cloudwatch.PutMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricDataOutput, error) {
	*c.calls++
	return &cloudwatch.PutMetricDataOutput{}, nil
}

const manifest = `{"runId":"wr_1","mode":"snapshot","tables":[{"name":"products","rowsWritten":3,"rowsTotal":3}]}`

func verifier(a verify.AthenaAPI, body string, puts *int) *verify.Verifier {
	return &verify.Verifier{S3: stubS3{body}, Athena: a, CloudWatch: stubCW{puts}, Bucket: "b", RunsPrefix: "lake/_lakeforge_runs/",
		Database: "kthr01", TablePrefix: "workflow_kthr01_", Workgroup: "lakeforge", AnalystRole: "arn:aws:iam::1:role/analyst", Namespace: "lakeforge", Log: quiet}
}

func TestAnalystCannotQuery(t *testing.T) {
	cases := []struct {
		name string
		a    stubAthena
		want string
	}{
		{"no Lake Formation grant", stubAthena{state: athenatypes.QueryExecutionStateFailed, reason: "Insufficient Lake Formation permission(s) on workflow_kthr01_products", athErr: &athenatypes.AthenaError{ErrorCategory: aws.Int32(2)}}, "TagOutput"},
		{"table missing", stubAthena{state: athenatypes.QueryExecutionStateFailed, reason: "TABLE_NOT_FOUND: line 1:22: Table 'awsdatacatalog.kthr01.workflow_kthr01_products' does not exist", athErr: &athenatypes.AthenaError{ErrorCategory: aws.Int32(2)}}, "output crawler"},
		{"workgroup denied", stubAthena{startErr: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform athena:StartQueryExecution"}}, "trust policy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			puts := 0
			_, err := verifier(c.a, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
			var ve *steperr.VerificationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "kthr01.workflow_kthr01_products") {
				t.Fatalf("%v", err)
			}
			if puts == 0 {
				t.Fatal("figures not published")
			}
		})
	}
}

func TestThrottlingAndSystemErrorsAreTransient(t *testing.T) {
	for _, a := range []stubAthena{
		{startErr: &smithy.GenericAPIError{Code: "TooManyRequestsException", Message: "slow down"}},
		// Issue 11: these were reported as the analyst's problem.
		{startErr: &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}},
		{startErr: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}},
			Err:      &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "try later"},
		}}},
		{state: athenatypes.QueryExecutionStateFailed, reason: "internal", athErr: &athenatypes.AthenaError{ErrorCategory: aws.Int32(1)}},
		{state: athenatypes.QueryExecutionStateFailed, reason: "retry me", athErr: &athenatypes.AthenaError{ErrorCategory: aws.Int32(3), Retryable: true}},
	} {
		puts := 0
		_, err := verifier(a, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
		var te *steperr.TransientError
		if !errors.As(err, &te) {
			t.Fatalf("want TransientError, got %T %v", err, err)
		}
	}
}

func TestBadManifestAndInput(t *testing.T) {
	puts := 0
	for body, want := range map[string]string{
		`{"runId":"wr_9","tables":[{"name":"a","rowsTotal":1}]}`: `runId is "wr_9"`,
		`{"runId":"wr_1","tables":[]}`:                           "source crawler",
		`{"runId":"wr_1","tables":[{"name":"Bad Name"}]}`:        "lower-case",
		`not json`: "not valid JSON",
	} {
		_, err := verifier(stubAthena{}, body, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
		var ve *steperr.VerificationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", body, err)
		}
	}
	_, err := verifier(stubAthena{}, manifest, &puts).Verify(context.Background(), verify.Input{RunID: "../x"})
	var ie *steperr.InvalidInputError
	if !errors.As(err, &ie) {
		t.Fatalf("%v", err)
	}
}

// The stand-ins replace these clients.
var (
	_ verify.S3API         = stubS3{}
	_ verify.AthenaAPI     = stubAthena{}
	_ verify.CloudWatchAPI = stubCW{}
)

// The proof the job recorded (issue 19) reaches VerifyQuery's output; a
// manifest whose figures disagree was never published by the job.
func TestProofFiguresFromTheManifest(t *testing.T) {
	const proven = `{"runId":"wr_1","mode":"merge","tables":[{"name":"orders","mode":"merge","rowsWritten":2,"rowsTotal":3,
		"proof":{"scope":"every row","columns":["id","amount"],"sourceRows":3,"sourceChecksum":"2149056871854709602","lakeRows":3,"lakeChecksum":"2149056871854709602"}}]}`
	puts := 0
	a := stubAthena{state: athenatypes.QueryExecutionStateSucceeded, count: "3"}
	out, err := verifier(a, proven, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
	if err != nil {
		t.Fatal(err)
	}
	got := out.Tables[0]
	if !got.OK || got.Mode != "merge" || got.ProofScope != "every row" || got.ProvenRows != 3 || got.Checksum != "2149056871854709602" {
		t.Fatalf("%+v", got)
	}
	for body, want := range map[string]string{
		strings.Replace(proven, `"lakeChecksum":"2149056871854709602"`, `"lakeChecksum":"2149056871854709603"`, 1): "tables[0].proof: the source has 3 rows, checksum 2149056871854709602, the lake 3 rows, checksum 2149056871854709603",
		strings.Replace(proven, `"lakeRows":3`, `"lakeRows":4`, 1):                                                 "the lake 4 rows",
		strings.Replace(proven, `"rowsTotal":3`, `"rowsTotal":5`, 1):                                               "tables[0].proof covers 3 rows, rowsTotal is 5",
		strings.ReplaceAll(proven, `2149056871854709602`, `x1`):                                                    "not decimal numbers",
	} {
		_, err := verifier(a, body, &puts).Verify(context.Background(), verify.Input{RunID: "wr_1"})
		var ve *steperr.VerificationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), want) {
			t.Errorf("want VerificationError with %q, got %v", want, err)
		}
	}
}
