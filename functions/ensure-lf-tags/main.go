// Command ensure-lf-tags is the EnsureLFTags step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("ensure-lf-tags")
	var tags map[string][]string
	step.Env.JSON(lakeformation.EnvTags, &tags)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.EnsureLFTags{
		LF:    lf.NewFromConfig(cfg),
		Retry: awsretry.Default(),
		Tags:  tags,
	}, step.Log))
}
