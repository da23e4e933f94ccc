// Command configure-lake-formation is the ConfigureLakeFormation step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("configure-lake-formation")
	admins := step.Env.List(lakeformation.EnvAdmins)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.ConfigureLakeFormation{
		LF:     lf.NewFromConfig(cfg),
		Retry:  awsretry.Default(),
		Admins: admins,
	}, step.Log))
}
