// Command start-import is the StartImport step: it starts the Glue import
// workflow, or attaches to the run already in progress.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("start-import")
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
	steprun.Start(step, im.Start)
}
