// Command import-events ends the pipeline's wait for the import: on the
// Glue job and crawler state-change events, and on the fallback schedule,
// it releases the task token StartImport kept; it has runs that ended well
// outside the state machine tagged by TagOutput.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("import-events")
	r := &importrun.Releaser{
		Workflow:    step.Env.String(importrun.EnvWorkflowName),
		ImportJob:   step.Env.String(importrun.EnvImportJob),
		EndCrawler:  step.Env.Optional(importrun.EnvEndCrawler, ""),
		Crawlers:    step.Env.OptionalList(importrun.EnvCrawlers),
		Timeout:     time.Duration(step.Env.Int(importrun.EnvTimeoutMinutes)) * time.Minute,
		TagFunction: step.Env.String(importrun.EnvTagFunction),
		Log:         step.Log,
	}
	table := step.Env.String(importrun.EnvTokenTable)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	r.Glue = glue.NewFromConfig(cfg)
	r.SFN = sfn.NewFromConfig(cfg)
	r.Tag = lambda.NewFromConfig(cfg)
	r.Tokens = &importrun.DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table}
	steprun.Start(step, r.Handle)
}
