// Command grant-tag-permissions is the GrantTagPermissions step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
)

const step = "grant-tag-permissions"

func main() {
	log := steplog.New(step)
	env := lambdaenv.New()
	workflowRole := env.String(lakeformation.EnvWorkflowRoleARN)
	analysts := env.OptionalList(lakeformation.EnvAnalystARNs)
	var workflowTag, analystTag config.TagRef
	env.JSON(lakeformation.EnvWorkflowTag, &workflowTag)
	env.JSON(lakeformation.EnvAnalystTag, &analystTag)
	if err := env.Err(); err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.StepInput](step, err, log))
		return
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(awsretry.NewSDKRetryer))
	if err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.StepInput](step, &steperr.ConfigError{Field: "AWS SDK configuration", Value: err.Error(), Fix: "the Lambda runtime provides region and credentials; redeploy the function"}, log))
		return
	}
	lambda.Start(lakeformation.Handler(step, &lakeformation.GrantTagPermissions{
		LF:     lf.NewFromConfig(cfg),
		Retry:  awsretry.Default(),
		Grants: lakeformation.AccessGrants(workflowRole, workflowTag, analysts, analystTag),
	}, log))
}
