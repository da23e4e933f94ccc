// Command get-import-status is the status read of the WaitForImport loop:
// it reads the workflow run and says whether to leave the loop, wait (and
// how long), or fail with the run's action counts.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("get-import-status")
	workflow := step.Env.String("WORKFLOW_NAME")
	timeout := step.Env.Int("WAIT_TIMEOUT_MINUTES")
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	im := &importrun.Importer{
		Glue:     glue.NewFromConfig(cfg),
		Workflow: workflow,
		Schedule: importrun.NewSchedule(time.Duration(timeout) * time.Minute),
		Log:      step.Log,
	}
	steprun.Start(step, im.Status)
}
