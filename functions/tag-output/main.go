// Command tag-output is the TagOutput step Lambda; see pkg/lakeformation.
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

const step = "tag-output"

func main() {
	log := steplog.New(step)
	env := lambdaenv.New()
	database := env.String(lakeformation.EnvDatabaseName)
	crawler := env.String(lakeformation.EnvOutputCrawler)
	var tag config.TagRef
	env.JSON(lakeformation.EnvAnalystTag, &tag)
	if err := env.Err(); err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.TagOutputInput](step, err, log))
		return
	}
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRetryer(awsretry.NewSDKRetryer))
	if err != nil {
		lambda.Start(lakeformation.ConfigFailure[lakeformation.TagOutputInput](step, &steperr.ConfigError{Field: "AWS SDK configuration", Value: err.Error(), Fix: "the Lambda runtime provides region and credentials; redeploy the function"}, log))
		return
	}
	lambda.Start(lakeformation.TagOutputHandler(&lakeformation.TagOutput{
		LF:       lf.NewFromConfig(cfg),
		Retry:    awsretry.Default(),
		Database: database,
		Tag:      tag,
	}, crawler, log))
}
