package verify_test

// The column security check with a stubbed Athena: moto runs no SQL and
// enforces no Lake Formation permission, so which query the analyst may
// run is the stub's answer, set per case as Lake Formation answers on AWS
// (a hidden column: COLUMN_NOT_FOUND; a refused one: insufficient
// permission). What must be refused comes from the probes TagOutput
// records, never from the stub.

import (
	"context"
	"errors"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// keyedS3 answers GetObject from a map of keys, NoSuchKey otherwise.
type keyedS3 map[string]string

func (s keyedS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	body, ok := s[aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body))}, nil
}

// columnAthena answers a count with 3 rows and a column query with the
// outcome set for the column; it keeps the queries.
type columnAthena struct {
	mu      sync.Mutex
	outcome map[string]string // column -> "" (answers) or the failure reason
	queries []string
	byID    map[string]string
}

var selectColumn = regexp.MustCompile(`^SELECT "([^"]+)" FROM "kthr01"\."workflow_kthr01_customers" LIMIT 1$`)

func (a *columnAthena) StartQueryExecution(_ context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.queries = append(a.queries, aws.ToString(in.QueryString))
	id := string(rune('a' + len(a.queries)))
	if a.byID == nil {
		a.byID = map[string]string{}
	}
	a.byID[id] = aws.ToString(in.QueryString)
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String(id)}, nil
}

func (a *columnAthena) GetQueryExecution(_ context.Context, in *athena.GetQueryExecutionInput, _ ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	a.mu.Lock()
	q := a.byID[aws.ToString(in.QueryExecutionId)]
	a.mu.Unlock()
	st := &athenatypes.QueryExecutionStatus{State: athenatypes.QueryExecutionStateSucceeded}
	if m := selectColumn.FindStringSubmatch(q); m != nil && a.outcome[m[1]] != "" {
		st = &athenatypes.QueryExecutionStatus{State: athenatypes.QueryExecutionStateFailed, StateChangeReason: aws.String(a.outcome[m[1]]),
			AthenaError: &athenatypes.AthenaError{ErrorCategory: aws.Int32(2)}}
	}
	return &athena.GetQueryExecutionOutput{QueryExecution: &athenatypes.QueryExecution{Status: st}}, nil
}

func (a *columnAthena) GetQueryResults(context.Context, *athena.GetQueryResultsInput, ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error) {
	return &athena.GetQueryResultsOutput{ResultSet: &athenatypes.ResultSet{Rows: []athenatypes.Row{
		{Data: []athenatypes.Datum{{VarCharValue: aws.String("_col0")}}}, {Data: []athenatypes.Datum{{VarCharValue: aws.String("3")}}}}}}, nil
}

const (
	customersManifest = `{"runId":"wr_1","mode":"snapshot","tables":[{"name":"customers","rowsWritten":3,"rowsTotal":3}]}`
	customersProbes   = `{"runId":"wr_1","grant":"source=product AND sensitivity in (public, internal)","tables":[{"table":"workflow_kthr01_customers",` +
		`"allowed":[{"column":"id","value":"public","rule":"governance.columns.public[0]"}],` +
		`"denied":[{"column":"email","value":"pii","rule":"governance.columns.pii[0]"},{"column":"nickname","value":"unclassified"}]}]}`
	hidden  = "COLUMN_NOT_FOUND: line 1:8: Column 'email' cannot be resolved or requester is not authorized to access requested resources"
	refused = "Insufficient Lake Formation permission(s) on workflow_kthr01_customers"
)

func columnVerifier(a verify.AthenaAPI, objects keyedS3) *verify.Verifier {
	puts := 0
	v := verifier(a, "", &puts)
	v.S3 = objects
	v.ColumnSecurity, v.SensitivityKey = true, "sensitivity"
	return v
}

func TestColumnSecurityAsTheAnalyst(t *testing.T) {
	objects := keyedS3{"lake/_lakeforge_runs/wr_1/manifest.json": customersManifest, "lake/_lakeforge_runs/wr_1/columns.json": customersProbes}
	cases := []struct {
		name    string
		outcome map[string]string
		want    []string // problems, each a list of words; none: the run passes
	}{
		{"pii and unclassified refused, public answers", map[string]string{"email": hidden, "nickname": refused}, nil},
		{"a pii column answers", map[string]string{"nickname": hidden},
			[]string{"kthr01.workflow_kthr01_customers.email (sensitivity=pii, governance.columns.pii[0]) answered the analyst", "grant source=product AND sensitivity in (public, internal) must not give it", "lakeforge access --table workflow_kthr01_customers --column email"}},
		{"an unclassified column answers", map[string]string{"email": hidden},
			[]string{"kthr01.workflow_kthr01_customers.nickname (sensitivity=unclassified, no rule: unclassified) answered the analyst"}},
		{"a public column is refused", map[string]string{"id": refused, "email": hidden, "nickname": hidden},
			[]string{"kthr01.workflow_kthr01_customers.id (sensitivity=public) was refused to the analyst", "Insufficient Lake Formation permission"}},
		{"a refusal for another reason proves nothing", map[string]string{"email": "GENERIC_INTERNAL_ERROR: something broke", "nickname": hidden},
			[]string{"email (sensitivity=pii) failed for another reason", "not proven"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &columnAthena{outcome: c.outcome}
			_, err := columnVerifier(a, objects).Verify(context.Background(), verify.Input{RunID: "wr_1"})
			if c.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				var ve *steperr.VerificationError
				if !errors.As(err, &ve) {
					t.Fatalf("err = %v (%T), want VerificationError", err, err)
				}
				for _, w := range c.want {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("%q lacks %q", err.Error(), w)
					}
				}
			}
			// The count, then one query per probe column, as the analyst.
			want := []string{`SELECT COUNT(*) FROM "kthr01"."workflow_kthr01_customers"`,
				`SELECT "id" FROM "kthr01"."workflow_kthr01_customers" LIMIT 1`,
				`SELECT "email" FROM "kthr01"."workflow_kthr01_customers" LIMIT 1`,
				`SELECT "nickname" FROM "kthr01"."workflow_kthr01_customers" LIMIT 1`}
			if strings.Join(a.queries, "\n") != strings.Join(want, "\n") {
				t.Fatalf("queries\n%s\nwant\n%s", strings.Join(a.queries, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestColumnSecurityWithoutProbes(t *testing.T) {
	objects := keyedS3{"lake/_lakeforge_runs/wr_1/manifest.json": customersManifest}
	_, err := columnVerifier(&columnAthena{}, objects).Verify(context.Background(), verify.Input{RunID: "wr_1"})
	var ve *steperr.VerificationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "TagOutput recorded no column classification for run wr_1") {
		t.Fatalf("err = %v", err)
	}
	// Without governance nothing is probed.
	v := columnVerifier(&columnAthena{}, objects)
	v.ColumnSecurity = false
	if _, err := v.Verify(context.Background(), verify.Input{RunID: "wr_1"}); err != nil {
		t.Fatalf("without governance: %v", err)
	}
}
