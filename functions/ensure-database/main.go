// Command ensure-database is the EnsureDatabase step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
)

const step = "ensure-database"

func main() {
	log := steplog.New(step)
	env := lambdaenv.New()
	name := env.String(lakeformation.EnvDatabaseName)
	location := env.String(lakeformation.EnvDatabaseLocation)
	source := env.String(lakeformation.EnvSourceDatabaseName)
	var tag config.TagRef
	env.JSON(lakeformation.EnvWorkflowTag, &tag)
	if err := env.Err(); err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.StepInput](step, err, log))
		return
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(awsretry.NewSDKRetryer))
	if err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.StepInput](step, &steperr.ConfigError{Field: "AWS SDK configuration", Value: err.Error(), Fix: "the Lambda runtime provides region and credentials; redeploy the function"}, log))
		return
	}
	lambda.Start(lakeformation.Handler(step, &lakeformation.EnsureDatabase{
		Glue:        glue.NewFromConfig(cfg),
		LF:          lf.NewFromConfig(cfg),
		Retry:       awsretry.Default(),
		Name:        name,
		LocationURI: location,
		SourceName:  source,
		Tag:         tag,
	}, log))
}
