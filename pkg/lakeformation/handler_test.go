package lakeformation

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// TestTagOutputInputs decodes inputs as aws-lambda-go does (encoding/json)
// and checks which are accepted. Rejections happen before any AWS call: the
// step's client is nil and would panic if called.
func TestTagOutputInputs(t *testing.T) {
	h := TagOutputHandler(&TagOutput{}, "lakeforge-lake-crawler", quietLog)
	event := func(name, state string) string {
		return `{"version":"0","source":"aws.glue","detail-type":"Glue Crawler State Change","detail":{"crawlerName":"` + name + `","state":"` + state + `","message":"Crawler Succeeded"}}`
	}
	rejected := map[string]string{
		event("lakeforge-source-crawler", "Succeeded"):                    "detail.crawlerName",
		event("lakeforge-lake-crawler", "Failed"):                         "detail.state",
		`{"source":"aws.s3","detail-type":"Object Created","detail":{}}`:  "source",
		`{"source":"aws.glue","detail-type":"Glue Job State Change"}`:     "detail-type",
		`{"source":"aws.glue","detail-type":"Glue Crawler State Change"}`: "detail",
	}
	for raw, field := range rejected {
		var in TagOutputInput
		if err := json.Unmarshal([]byte(raw), &in); err != nil {
			t.Fatal(err)
		}
		_, err := h(context.Background(), in)
		var ie *steperr.InvalidInputError
		if !errors.As(err, &ie) || ie.Field != field {
			t.Errorf("%s: err = %v; want InvalidInputError on %s", raw, err, field)
		}
	}
	for _, raw := range []string{`{}`, `{"runId":"2024-01-01","importRunId":"wr_123"}`, event("lakeforge-lake-crawler", "Succeeded")} {
		var in TagOutputInput
		if err := json.Unmarshal([]byte(raw), &in); err != nil {
			t.Fatal(err)
		}
		if err := checkEvent(in, "lakeforge-lake-crawler"); err != nil {
			t.Errorf("%s rejected: %v", raw, err)
		}
	}
}

// TestStepInputAcceptsAnyObject: the state machine may pass {} or its run
// context; the access-model steps ignore it. It is decoded as the Lambda
// decodes it (steprun.Decode), which refuses anything but an object.
func TestStepInputAcceptsAnyObject(t *testing.T) {
	for _, raw := range []string{`{}`, `{"runId":"abc","nested":{"a":[1,2]}}`} {
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
