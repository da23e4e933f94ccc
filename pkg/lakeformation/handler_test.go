package lakeformation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// TestStepInputAcceptsAnyObject: the state machine may pass {} or its run
// context, and import-events invokes tag-output with {"trigger":
// "import-ended"}; the access-model steps ignore it. It is decoded as the Lambda
// decodes it (steprun.Decode), which refuses anything but an object.
func TestStepInputAcceptsAnyObject(t *testing.T) {
	for _, raw := range []string{`{}`, `{"runId":"abc","nested":{"a":[1,2]}}`, `{"trigger":"import-ended"}`} {
		if _, err := steprun.Decode[StepInput]([]byte(raw)); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{`[]`, `"run"`, `null`, `7`} {
		_, err := steprun.Decode[StepInput]([]byte(raw))
		var ie *steperr.InvalidInputError
		if !errors.As(err, &ie) || ie.Field != steprun.EventField {
			t.Errorf("%s: err = %v; want InvalidInputError on the event", raw, err)
		}
	}
}

type failingRunner struct{ err error }

func (f failingRunner) Run(context.Context) ([]string, error) { return nil, f.err }

// TestHandlerReturnsStepErrorTypes: a wrapped step error reaches Step
// Functions as its own type, normalized once at the Lambda boundary, while
// the step's log keeps the context around it; the summary is never null.
func TestHandlerReturnsStepErrorTypes(t *testing.T) {
	inner := &steperr.TransientError{Op: "lakeformation:GrantPermissions"}
	var logged bytes.Buffer
	h := Handler("x", failingRunner{err: fmt.Errorf("granting the workflow tag: %w", inner)}, slog.New(slog.NewTextHandler(&logged, nil)))
	out, err := steprun.Typed("x", h)(context.Background(), json.RawMessage(`{}`))
	if err != inner {
		t.Fatalf("err = %#v; want the TransientError itself", err)
	}
	if !strings.Contains(logged.String(), "granting the workflow tag") {
		t.Errorf("the step's log lost the error's context: %s", logged.String())
	}
	raw, _ := json.Marshal(out)
	if string(raw) != `{"step":"x","changes":[]}` {
		t.Fatalf("out = %s", raw)
	}
}

var _ Runner = failingRunner{}
