package lakeformation

import (
	"context"
	"encoding/json"
	"errors"
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
// Functions as its own type, and the summary is never null.
func TestHandlerReturnsStepErrorTypes(t *testing.T) {
	inner := &steperr.TransientError{Op: "lakeformation:GrantPermissions"}
	out, err := Handler("x", failingRunner{err: errors.Join(errors.New("context"), inner)}, quietLog)(context.Background(), StepInput{})
	if err != inner {
		t.Fatalf("err = %#v; want the TransientError itself", err)
	}
	raw, _ := json.Marshal(out)
	if string(raw) != `{"step":"x","changes":[]}` {
		t.Fatalf("out = %s", raw)
	}
}

var _ Runner = failingRunner{}
