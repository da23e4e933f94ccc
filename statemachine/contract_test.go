package statemachine

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

type retrier struct {
	ErrorEquals     []string
	IntervalSeconds *float64
	MaxAttempts     *int
	BackoffRate     *float64
	MaxDelaySeconds *float64
	JitterStrategy  string
}

type catcher struct {
	ErrorEquals []string
	ResultPath  string
	Next        string
}

type aslState struct {
	Type       string
	Resource   string
	Parameters map[string]any
	Retry      []retrier
	Catch      []catcher
}

// waitForTaskToken is the Lambda integration that waits on a task token.
const waitForTaskToken = "arn:aws:states:::lambda:invoke.waitForTaskToken"

// lambdaPlaceholder is the ${...FunctionArn} a Task invokes: its Resource,
// or the FunctionName of the Lambda service integration.
func (st aslState) lambdaPlaceholder() (string, bool) {
	if st.Type != "Task" {
		return "", false
	}
	if strings.HasPrefix(st.Resource, "${") {
		return st.Resource, true
	}
	if st.Resource == waitForTaskToken {
		fn, _ := st.Parameters["FunctionName"].(string)
		return fn, strings.HasPrefix(fn, "${")
	}
	return "", false
}

func states(t *testing.T) map[string]aslState {
	t.Helper()
	var def struct{ States map[string]aslState }
	if err := json.Unmarshal([]byte(Pipeline), &def); err != nil {
		t.Fatal(err)
	}
	return def.States
}

// exportedErrorTypes parses pkg/steperr and returns its exported types that
// have an Error method: what a handler can return.
func exportedErrorTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	dir := filepath.Join(repoRoot(), "pkg", "steperr")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	types := map[string]bool{}
	withError := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					if ts, ok := sp.(*ast.TypeSpec); ok && ts.Name.IsExported() {
						types[ts.Name.Name] = true
					}
				}
			case *ast.FuncDecl:
				if d.Recv == nil || d.Name.Name != "Error" || len(d.Recv.List) != 1 {
					continue
				}
				rt := d.Recv.List[0].Type
				if star, ok := rt.(*ast.StarExpr); ok {
					rt = star.X
				}
				if id, ok := rt.(*ast.Ident); ok {
					withError[id.Name] = true
				}
			}
		}
	}
	var out []string
	for n := range types {
		if withError[n] {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func TestNamesMatchTheErrorTypesOfSteperr(t *testing.T) {
	names := slices.Sorted(slices.Values(steperr.Names()))
	if got := exportedErrorTypes(t); !slices.Equal(got, names) {
		t.Fatalf("steperr.Names() = %v, but pkg/steperr declares error types %v: update Names()", names, got)
	}
}

// documentedNames are the error names Step Functions itself reports that
// the definition may use ("Error handling in Step Functions", "Handle
// Lambda service exceptions"): a typo in one would never match.
var documentedNames = []string{
	"States.ALL", "States.DataLimitExceeded", "States.Runtime", "States.Timeout", "States.TaskFailed",
	"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
	"Lambda.SdkClientException", "Lambda.TooManyRequestsException", "Lambda.Unknown",
}

// Every name in a Retry or Catch is a documented Step Functions error or
// an error type of pkg/steperr (whose Go type names are what
// aws-lambda-go reports).
func TestEveryErrorEqualsNameExists(t *testing.T) {
	known := exportedErrorTypes(t)
	for name, st := range states(t) {
		var used []string
		for _, r := range st.Retry {
			used = append(used, r.ErrorEquals...)
		}
		for _, c := range st.Catch {
			used = append(used, c.ErrorEquals...)
		}
		for _, e := range used {
			if slices.Contains(documentedNames, e) {
				continue
			}
			if !slices.Contains(known, e) {
				t.Errorf("%s: ErrorEquals %q is neither a documented Step Functions error nor an error type of pkg/steperr (%v)", name, e, known)
			}
		}
	}
}

// The Retry lists of every Lambda task, with the values the requirement
// sets: the Lambda service exceptions as AWS recommends ("Handle Lambda
// service exceptions": IntervalSeconds 2, MaxAttempts 6, BackoffRate 2,
// ClientExecutionTimeoutException included); TransientError for Lake
// Formation's eventual consistency, which lasts up to about 2 minutes
// (DESIGN.md); Lambda.Unknown (a function timeout) retried once.
func TestRetryPolicies(t *testing.T) {
	lambdaService := []string{"Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}
	type want struct {
		interval, backoff float64
		attempts          int
	}
	tasks := 0
	for name, st := range states(t) {
		if _, ok := st.lambdaPlaceholder(); !ok {
			continue
		}
		tasks++
		byName := map[string]retrier{}
		for _, r := range st.Retry {
			for _, e := range r.ErrorEquals {
				if _, dup := byName[e]; dup {
					t.Errorf("%s: %s in two retriers", name, e)
				}
				byName[e] = r
			}
			if r.JitterStrategy != "FULL" || r.MaxDelaySeconds == nil || r.IntervalSeconds == nil || r.MaxAttempts == nil || r.BackoffRate == nil {
				t.Errorf("%s: retrier %v needs IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds and JitterStrategy FULL", name, r.ErrorEquals)
			}
		}
		check := func(e string, w want) retrier {
			r, ok := byName[e]
			if !ok {
				t.Errorf("%s: %s is not retried", name, e)
				return r
			}
			if r.IntervalSeconds == nil || r.MaxAttempts == nil || r.BackoffRate == nil {
				return r
			}
			if *r.IntervalSeconds != w.interval || *r.MaxAttempts != w.attempts || *r.BackoffRate != w.backoff {
				t.Errorf("%s: %s retried every %vs x%v, %d times; want %vs x%v, %d times", name, e, *r.IntervalSeconds, *r.BackoffRate, *r.MaxAttempts, w.interval, w.backoff, w.attempts)
			}
			return r
		}
		for _, e := range lambdaService {
			check(e, want{2, 2, 6})
		}
		tr := check("TransientError", want{5, 2, 5})
		if tr.MaxDelaySeconds != nil && tr.IntervalSeconds != nil && tr.MaxAttempts != nil && tr.BackoffRate != nil {
			// The retries span the eventual-consistency window of ~2 minutes.
			total, d := 0.0, *tr.IntervalSeconds
			for range *tr.MaxAttempts {
				total += min(d, *tr.MaxDelaySeconds)
				d *= *tr.BackoffRate
			}
			if total < 100 || total > 180 {
				t.Errorf("%s: TransientError retries span %vs, want about 2 minutes", name, total)
			}
		}
		check("Lambda.Unknown", want{30, 2, 1})
		// Errors that retrying cannot change are never retried.
		for _, e := range steperr.Names() {
			if _, ok := byName[e]; ok && e != "TransientError" {
				t.Errorf("%s: %s is retried; only TransientError may be", name, e)
			}
		}
		if len(byName) != len(lambdaService)+2 {
			t.Errorf("%s: retries %v, want exactly the Lambda service errors, TransientError and Lambda.Unknown", name, slices.Sorted(maps.Keys(byName)))
		}
	}
	if tasks != 9 {
		t.Fatalf("%d Lambda tasks, want 9", tasks)
	}
}

// One Catch per Task: States.ALL, alone and last as Step Functions
// requires, and before it States.DataLimitExceeded and States.Runtime,
// which States.ALL does not match. Each records {Error, Cause} under
// $.failure.<state> for DescribeFailure.
func TestOneCatchPerTask(t *testing.T) {
	for name, st := range states(t) {
		if _, ok := st.lambdaPlaceholder(); !ok {
			continue
		}
		if len(st.Catch) != 2 {
			t.Errorf("%s: %d catchers, want 2", name, len(st.Catch))
			continue
		}
		if got := st.Catch[0].ErrorEquals; !slices.Equal(got, []string{"States.DataLimitExceeded", "States.Runtime"}) {
			t.Errorf("%s: first catcher %v", name, got)
		}
		if got := st.Catch[1].ErrorEquals; !slices.Equal(got, []string{"States.ALL"}) {
			t.Errorf("%s: last catcher %v, want States.ALL alone", name, got)
		}
		for _, c := range st.Catch {
			if c.Next != "DescribeFailure" || c.ResultPath != "$.failure."+name {
				t.Errorf("%s: catcher %v goes to %s with ResultPath %s; want DescribeFailure and $.failure.%s", name, c.ErrorEquals, c.Next, c.ResultPath, name)
			}
		}
	}
}

func TestPlaceholdersMatchFunctionFolders(t *testing.T) {
	dirs, err := os.ReadDir(filepath.Join(repoRoot(), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	byPlaceholder := map[string]string{}
	for _, d := range dirs {
		if d.IsDir() {
			byPlaceholder[stepcontract.FunctionArnPlaceholder(d.Name())] = d.Name()
		}
	}
	for _, p := range Placeholders(Pipeline) {
		if p == TopicPlaceholder {
			continue
		}
		fn, ok := byPlaceholder[p]
		if !ok {
			t.Errorf("placeholder ${%s} has no functions/<name> folder", p)
			continue
		}
		if _, err := os.Stat(filepath.Join(repoRoot(), "functions", fn, "main.go")); err != nil {
			t.Errorf("functions/%s has no main.go", fn)
		}
	}
	for name, st := range states(t) {
		if p, ok := st.lambdaPlaceholder(); ok {
			if _, ok := byPlaceholder[strings.Trim(p, "${}")]; !ok {
				t.Errorf("%s invokes %s, which has no functions/<name> folder", name, p)
			}
			continue
		}
		if st.Type == "Task" && st.Resource != "arn:aws:states:::sns:publish" {
			t.Errorf("%s: Task resource %q is neither a step function nor the SNS integration", name, st.Resource)
		}
	}
}

// notifyRetrier is the requirement on NotifyFailure's one retrier: the
// failure notice is the only report of a failed run, so every error of the
// SNS publish (a throttled topic, its KMS key throttled, a service error)
// is retried (States.ALL), 3 times from 2 s doubling with full jitter and
// at most 20 s apart; then the Catch ends the execution in Fail, so a
// topic that stays down cannot hold the execution open.
var notifyRetrier = retrier{
	ErrorEquals:     []string{"States.ALL"},
	IntervalSeconds: ptr(2.0), MaxAttempts: ptr(3), BackoffRate: ptr(2.0), MaxDelaySeconds: ptr(20.0),
	JitterStrategy: "FULL",
}

func ptr[T any](v T) *T { return &v }

// Every Retry of the definition is checked by value: the Lambda tasks' by
// TestRetryPolicies, NotifyFailure's here against notifyRetrier. A state
// with a Retry that no requirement covers fails, so a new retrier cannot
// go unchecked.
func TestEveryRetrierIsCheckedByValue(t *testing.T) {
	checked := 0
	for name, st := range states(t) {
		if len(st.Retry) == 0 {
			continue
		}
		if _, ok := st.lambdaPlaceholder(); ok {
			checked++ // TestRetryPolicies checks these by value
			continue
		}
		switch name {
		case "NotifyFailure":
			checked++
			if len(st.Retry) != 1 || !reflect.DeepEqual(st.Retry[0], notifyRetrier) {
				raw, _ := json.Marshal(st.Retry)
				want, _ := json.Marshal([]retrier{notifyRetrier})
				t.Errorf("NotifyFailure retries %s, want %s", raw, want)
			}
			if len(st.Catch) != 1 || !slices.Equal(st.Catch[0].ErrorEquals, []string{"States.ALL"}) || st.Catch[0].Next != "Fail" {
				t.Errorf("NotifyFailure catches %+v, want States.ALL to Fail: a topic that stays down must still end the execution", st.Catch)
			}
		default:
			t.Errorf("%s has a Retry no requirement checks: add its expected values here", name)
		}
	}
	if checked != 10 {
		t.Errorf("%d states with a Retry checked, want 10 (9 Lambda tasks and NotifyFailure)", checked)
	}
}
