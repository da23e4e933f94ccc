// Command tag-output is the TagOutput step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("tag-output")
	database := step.Env.String(lakeformation.EnvDatabaseName)
	crawler := step.Env.String(lakeformation.EnvOutputCrawler)
	var tag config.TagRef
	step.Env.JSON(lakeformation.EnvAnalystTag, &tag)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.TagOutputHandler(&lakeformation.TagOutput{
		LF:       lf.NewFromConfig(cfg),
		Retry:    awsretry.Default(),
		Database: database,
		Tag:      tag,
	}, crawler, step.Log))
}
