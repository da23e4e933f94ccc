// Package steps is the registry of the step Lambdas: every
// steprun.Definition, from the step packages below it. The template
// contract test (infra/stack) and the demo start a step by its name here,
// with the wiring its functions/<name>/main.go runs. The Lambdas
// themselves never import it: each links only its own step package.
package steps

import (
	"github.com/lakeforge/lakeforge/pkg/firstrun"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// All are the step Lambdas, in the order the pipeline runs them
// (stepcontract.Functions).
var All = []steprun.Definition{
	lakeformation.ConfigureLakeFormationStep,
	lakeformation.EnsureLFTagsStep,
	lakeformation.RegisterLocationStep,
	lakeformation.EnsureDatabaseStep,
	lakeformation.GrantTagPermissionsStep,
	preflight.TestConnectionStep,
	importrun.StartImportStep,
	importrun.ImportEventsStep,
	lakeformation.TagOutputStep,
	verify.VerifyQueryStep,
	lakeformation.CleanupLakeFormationStep,
	firstrun.FirstRunStep,
	preflight.ManageNetworkStep,
}

// ByName is the step Lambda of functions/<name>.
func ByName(name string) (steprun.Definition, bool) {
	for _, d := range All {
		if d.Name == name {
			return d, true
		}
	}
	return steprun.Definition{}, false
}
