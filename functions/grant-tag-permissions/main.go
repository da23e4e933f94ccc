// Command grant-tag-permissions is the GrantTagPermissions step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("grant-tag-permissions")
	workflowRole := step.Env.String(lakeformation.EnvWorkflowRoleARN)
	analysts := step.Env.OptionalList(lakeformation.EnvAnalystARNs)
	configured := step.Env.OptionalList(lakeformation.EnvConfiguredAnalystARNs)
	var workflowTag, analystTag config.TagRef
	step.Env.JSON(lakeformation.EnvWorkflowTag, &workflowTag)
	step.Env.JSON(lakeformation.EnvAnalystTag, &analystTag)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.GrantTagPermissions{
		LF:         lf.NewFromConfig(cfg),
		Principals: lakeformation.NewPrincipals(iam.NewFromConfig(cfg), workflowRole),
		Retry:      awsretry.Default(),
		Grants:     lakeformation.AccessGrants(workflowRole, workflowTag, analysts, analystTag, configured...),
	}, step.Log))
}
