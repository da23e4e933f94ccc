package importrun

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Tagging the output of a run no execution waits for (started in the Glue
// console, say): once per run of the workflow, never for a job run outside
// it.

// tagOnce has TagOutput invoked for the run of the workflow the event
// belongs to, unless that run was tagged (or followed) already; it returns
// why it did not.
func (r *Releaser) tagOnce(ctx context.Context, d GlueDetail) (ignored string, err error) {
	runID, err := r.runOf(ctx, d)
	if err != nil {
		return "", err
	}
	if runID == "" {
		return fmt.Sprintf("the event belongs to no recent run of workflow %s (a job run started on its own): not tagged", r.Workflow), nil
	}
	claimed, err := r.Tokens.Claim(ctx, runID)
	if err != nil {
		return "", err
	}
	if !claimed {
		return "run " + runID + " was tagged or followed by the state machine already (a duplicate event): not tagged again", nil
	}
	return "", r.tag(ctx, runID)
}

// runOf is the id of the recent run of the workflow the event belongs to,
// "" when none.
func (r *Releaser) runOf(ctx context.Context, d GlueDetail) (string, error) {
	out, err := r.Glue.GetWorkflowRuns(ctx, &glue.GetWorkflowRunsInput{Name: aws.String(r.Workflow), IncludeGraph: aws.Bool(true), MaxResults: aws.Int32(RecentRuns)})
	if err != nil {
		return "", classify("glue:GetWorkflowRuns", r.Workflow, err)
	}
	for i := range out.Runs {
		if belongs, _ := r.judgeEvent(d, &out.Runs[i]); belongs {
			return aws.ToString(out.Runs[i].WorkflowRunId), nil
		}
	}
	return "", nil
}

func (r *Releaser) tag(ctx context.Context, runID string) error {
	// TagOutput takes the state machine's input shape; it reads nothing.
	payload, _ := json.Marshal(map[string]string{"trigger": "import-ended"})
	_, err := r.Tag.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(r.TagFunction),
		InvocationType: lambdatypes.InvocationTypeEvent,
		Payload:        payload,
	})
	if err != nil {
		return classify("lambda:InvokeFunction", r.Workflow, err)
	}
	r.log().Info("tagging the output of a run started outside the state machine", "function", r.TagFunction, "runId", runID)
	return nil
}
