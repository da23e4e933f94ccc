// Package awscalls records the AWS operations a handler makes, as IAM action
// names, so tests can count mutating calls and compare what a handler calls
// with what its role allows.
//
// Golden files: each function keeps the sorted IAM actions its handler can
// call in functions/<name>/testdata/iam-actions.txt. Its tests check the
// recorded actions against that file (see CheckGolden), and the infra tests
// check the file against the role's policy in the synthesized template, in
// both directions.
package awscalls

import (
	"context"
	"flag"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"

	"github.com/lakeforge/lakeforge/internal/iamactions"
)

// Recorder collects the IAM actions of the calls made through clients built
// from a configuration it was added to.
type Recorder struct {
	mu    sync.Mutex
	calls []string
}

// Attach adds the recorder to cfg's API options; clients made from the
// returned configuration record every call they send.
func (r *Recorder) Attach(cfg aws.Config) aws.Config {
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("lakeforgeRecordCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				r.mu.Lock()
				r.calls = append(r.calls, Action(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)))
				r.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return cfg
}

// Calls returns every recorded action in call order.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Reset forgets the recorded calls.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.calls = nil
	r.mu.Unlock()
}

// Actions returns the distinct recorded actions, sorted.
func (r *Recorder) Actions() []string {
	out := r.Calls()
	slices.Sort(out)
	return slices.Compact(out)
}

// Mutating returns the recorded calls that change something: everything but
// Get*, List*, Describe*, Search*, Batch*Get* and the like.
func (r *Recorder) Mutating() []string {
	var out []string
	for _, c := range r.Calls() {
		if IsMutating(c) {
			out = append(out, c)
		}
	}
	return out
}

// IsMutating says whether an IAM action changes state.
func IsMutating(action string) bool {
	_, op, _ := strings.Cut(action, ":")
	for _, p := range []string{"Get", "List", "Describe", "Search", "BatchGet", "Head", "Test"} {
		if strings.HasPrefix(op, p) {
			return false
		}
	}
	return true
}

// servicePrefixes maps SDK service ids to IAM service prefixes where the
// lower-cased id without spaces is not the prefix.
var servicePrefixes = map[string]string{
	"CloudWatch": "cloudwatch",
	"SFN":        "states",
}

// operationActions maps "prefix:Operation" to the IAM action that authorizes
// it, where the two differ.
var operationActions = map[string]string{
	"s3:ListObjectsV2":           "s3:ListBucket",
	"s3:HeadObject":              "s3:GetObject",
	"s3:HeadBucket":              "s3:ListBucket",
	"glue:GetJobRuns":            "glue:GetJobRuns",
	"sts:GetCallerIdentity":      "sts:GetCallerIdentity",
	"athena:GetQueryRuntimeStat": "athena:GetQueryRuntimeStatistics",
	"lambda:Invoke":              "lambda:InvokeFunction",
}

// Action turns an SDK service id and operation name into an IAM action.
func Action(serviceID, operation string) string {
	prefix, ok := servicePrefixes[serviceID]
	if !ok {
		prefix = strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
	}
	a := prefix + ":" + operation
	if m, ok := operationActions[a]; ok {
		return m
	}
	return a
}

var update = flag.Bool("update-iam-actions", false, "rewrite testdata/iam-actions.txt from the recorded calls")

// GoldenPath is where a function's IAM action list lives, relative to the
// module root.
func GoldenPath(function string) string { return iamactions.Path(function) }

// ReadGolden reads an IAM action list file.
func ReadGolden(path string) ([]string, error) { return iamactions.Read(path) }

// CheckGolden compares the actions recorded over a test run that exercised
// every path of a handler with the function's golden file at path. With
// -update-iam-actions it rewrites the file instead.
func CheckGolden(t testing.TB, path string, actions []string) {
	t.Helper()
	actions = slices.Clone(actions)
	slices.Sort(actions)
	actions = slices.Compact(actions)
	if *update {
		if err := iamactions.Write(path, actions); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := ReadGolden(path)
	if err != nil {
		t.Fatalf("read %s: %v (run the test with -update-iam-actions to create it)", path, err)
	}
	if !slices.Equal(want, actions) {
		t.Fatalf("IAM actions called differ from %s:\n called: %v\n golden: %v\nIf the change is intended, run with -update-iam-actions and update the role's policy.", path, actions, want)
	}
}
