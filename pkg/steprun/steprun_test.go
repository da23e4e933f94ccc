package steprun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

func TestBoundaryHandsStepFunctionsOnlyStepErrorTypes(t *testing.T) {
	transient := &steperr.TransientError{Op: "glue:StartWorkflowRun", Err: errors.New("ConcurrentRunsExceededException")}
	cases := map[string]struct {
		err  error
		want string
	}{
		"wrapped transient": {fmt.Errorf("start: %w", transient), "TransientError"},
		"plain error":       {errors.New("boom"), "PermanentError"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			h := Boundary("start-import", func(context.Context, struct{}) (int, error) { return 7, tc.err })
			out, err := h(context.Background(), json.RawMessage(`{}`))
			if out != 7 {
				t.Errorf("output %d lost", out)
			}
			if got := reflect.TypeOf(err).Elem().Name(); got != tc.want {
				t.Fatalf("error type %s, want %s", got, tc.want)
			}
		})
	}
	ok := Boundary("x", func(context.Context, struct{}) (int, error) { return 1, nil })
	if _, err := ok(context.Background(), json.RawMessage(`{}`)); err != nil {
		t.Fatalf("nil error became %v", err)
	}
}

func TestAWSConfigReportsTheEnvironmentFirst(t *testing.T) {
	s := &Step{Name: "x", Env: lambdaenv.FromMap(map[string]string{})}
	s.Env.String("WORKFLOW_NAME")
	_, err := s.AWSConfig()
	var ce *steperr.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want ConfigError, got %T %v", err, err)
	}
}
