// Command start-import is the StartImport step: it starts the Glue import
// workflow, or attaches to the run already in progress, and keeps the
// state's task token for the import-events function.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("start-import")
	workflow := step.Env.String(importrun.EnvWorkflowName)
	table := step.Env.String(importrun.EnvTokenTable)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	im := &importrun.Importer{
		Glue:     glue.NewFromConfig(cfg),
		Tokens:   &importrun.DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table},
		Workflow: workflow,
		Log:      step.Log,
	}
	steprun.Start(step, im.Start)
}
