// Command ensure-lf-tags is the EnsureLFTags step Lambda; see pkg/lakeformation.
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
	step := steprun.New("ensure-lf-tags")
	var tags map[string][]string
	var permissions []lakeformation.TagPermission
	step.Env.JSON(lakeformation.EnvTags, &tags)
	step.Env.JSON(lakeformation.EnvTagPermissions, &permissions)
	cfg, err := step.AWSConfig()
	if err != nil {
		step.Fail(err)
		return
	}
	var roles []string
	for _, p := range permissions {
		roles = append(roles, p.Principal)
	}
	steprun.Start(step, lakeformation.Handler(step.Name, &lakeformation.EnsureLFTags{
		LF:          lf.NewFromConfig(cfg),
		Principals:  lakeformation.NewPrincipals(iam.NewFromConfig(cfg), roles...),
		Retry:       awsretry.Default(),
		Tags:        tags,
		Permissions: permissions,
	}, step.Log))
}
