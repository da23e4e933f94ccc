package lakeformation

import (
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The step Lambdas of this package: functions/<Name>/main.go runs each
// with steprun.Main; pkg/steps lists them for the tests and the demo.
var (
	ConfigureLakeFormationStep = steprun.Definition{Name: stepcontract.ConfigureLakeFormation, Wire: WireConfigureLakeFormation}
	EnsureLFTagsStep           = steprun.Definition{Name: stepcontract.EnsureLFTags, Wire: WireEnsureLFTags}
	RegisterLocationStep       = steprun.Definition{Name: stepcontract.RegisterLocation, Wire: WireRegisterLocation}
	EnsureDatabaseStep         = steprun.Definition{Name: stepcontract.EnsureDatabase, Wire: WireEnsureDatabase}
	GrantTagPermissionsStep    = steprun.Definition{Name: stepcontract.GrantTagPermissions, Wire: WireGrantTagPermissions}
	TagOutputStep              = steprun.Definition{Name: stepcontract.TagOutput, Wire: WireTagOutput}
	CleanupLakeFormationStep   = steprun.Definition{Name: stepcontract.CleanupLakeFormation, Wire: WireCleanupLakeFormation}
)
