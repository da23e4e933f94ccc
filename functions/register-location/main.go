// Command register-location is the RegisterLocation step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("register-location")
	location := step.Env.String(lakeformation.EnvLocationARN)
	role := step.Env.String(lakeformation.EnvLocationRoleARN)
	workflowRole := step.Env.String(lakeformation.EnvWorkflowRoleARN)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.RegisterLocation{
		LF:              lf.NewFromConfig(cfg),
		Retry:           awsretry.Default(),
		LocationARN:     location,
		RoleARN:         role,
		WorkflowRoleARN: workflowRole,
	}, step.Log))
}
