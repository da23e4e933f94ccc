// Command configure-lake-formation is the ConfigureLakeFormation step Lambda; see pkg/lakeformation.
// It only wires: environment, clients and handler are built once at cold start.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

func main() {
	step := steprun.New("configure-lake-formation")
	own := step.Env.List(lakeformation.EnvOwnAdmins)
	configured := step.Env.OptionalList(lakeformation.EnvAdmins)
	accountSettings := step.Env.String(lakeformation.EnvAccountSettings)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.ConfigureLakeFormation{
		LF:              lf.NewFromConfig(cfg),
		Principals:      lakeformation.NewPrincipals(iam.NewFromConfig(cfg), own...),
		Retry:           awsretry.Default(),
		Own:             own,
		Configured:      configured,
		AccountSettings: accountSettings,
		Log:             step.Log,
	}, step.Log))
}
