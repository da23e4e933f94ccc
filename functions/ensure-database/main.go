// Command ensure-database is the EnsureDatabase step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/glue"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("ensure-database")
	name := step.Env.String(lakeformation.EnvDatabaseName)
	location := step.Env.String(lakeformation.EnvDatabaseLocation)
	source := step.Env.String(lakeformation.EnvSourceDatabaseName)
	var tag config.TagRef
	step.Env.JSON(lakeformation.EnvWorkflowTag, &tag)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.EnsureDatabase{
		Glue:        glue.NewFromConfig(cfg),
		LF:          lf.NewFromConfig(cfg),
		Retry:       awsretry.Default(),
		Name:        name,
		LocationURI: location,
		SourceName:  source,
		Tag:         tag,
	}, step.Log))
}
