package importrun

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// WireStartImport wires start-import: what its main.go runs at cold start.
func WireStartImport(s *steprun.Step) (steprun.Handler, error) {
	workflow := s.Env.String(stepcontract.EnvWorkflowName)
	table := s.Env.String(stepcontract.EnvTokenTable)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	im := &Importer{
		Glue:     glue.NewFromConfig(cfg),
		Tokens:   &DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table},
		Workflow: workflow,
		Log:      s.Log,
	}
	return steprun.Typed(s.Name, im.Start), nil
}

// WireImportEvents wires import-events: what its main.go runs at cold start.
func WireImportEvents(s *steprun.Step) (steprun.Handler, error) {
	r := &Releaser{
		Workflow:    s.Env.String(stepcontract.EnvWorkflowName),
		ImportJob:   s.Env.String(stepcontract.EnvImportJob),
		Timeout:     time.Duration(s.Env.Int(stepcontract.EnvWaitTimeoutMinutes)) * time.Minute,
		TagFunction: s.Env.String(stepcontract.EnvTagFunction),
		Log:         s.Log,
	}
	table := s.Env.String(stepcontract.EnvTokenTable)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	r.Glue = glue.NewFromConfig(cfg)
	r.SFN = sfn.NewFromConfig(cfg)
	r.Tag = lambda.NewFromConfig(cfg)
	r.Tokens = &DynamoTokens{DB: dynamodb.NewFromConfig(cfg), Table: table}
	return steprun.Typed(s.Name, r.Handle), nil
}
