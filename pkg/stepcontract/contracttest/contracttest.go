// Package contracttest gives the template contract test in infra/stack
// what it needs from pkg/: the moto server (pkg/internal/motoserver is
// internal to pkg/) and each step function's wiring, so the test starts
// exactly what each functions/<name>/main.go starts.
package contracttest

import (
	"github.com/lakeforge/lakeforge/pkg/firstrun"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/lakeformation"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// Wiring is a step function's wiring and the call its main.go makes.
type Wiring struct {
	Wire steprun.Wiring
	// MainCall is the one statement of functions/<name>/main.go's main.
	MainCall string
}

// Wirings are the wiring of every step function, by folder name.
var Wirings = map[string]Wiring{
	stepcontract.ConfigureLakeFormation: {lakeformation.WireConfigureLakeFormation, "steprun.Main(stepcontract.ConfigureLakeFormation, lakeformation.WireConfigureLakeFormation)"},
	stepcontract.EnsureLFTags:           {lakeformation.WireEnsureLFTags, "steprun.Main(stepcontract.EnsureLFTags, lakeformation.WireEnsureLFTags)"},
	stepcontract.RegisterLocation:       {lakeformation.WireRegisterLocation, "steprun.Main(stepcontract.RegisterLocation, lakeformation.WireRegisterLocation)"},
	stepcontract.EnsureDatabase:         {lakeformation.WireEnsureDatabase, "steprun.Main(stepcontract.EnsureDatabase, lakeformation.WireEnsureDatabase)"},
	stepcontract.GrantTagPermissions:    {lakeformation.WireGrantTagPermissions, "steprun.Main(stepcontract.GrantTagPermissions, lakeformation.WireGrantTagPermissions)"},
	stepcontract.TagOutput:              {lakeformation.WireTagOutput, "steprun.Main(stepcontract.TagOutput, lakeformation.WireTagOutput)"},
	stepcontract.TestConnection:         {preflight.WireTestConnection, "steprun.Main(stepcontract.TestConnection, preflight.WireTestConnection)"},
	stepcontract.StartImport:            {importrun.WireStartImport, "steprun.Main(stepcontract.StartImport, importrun.WireStartImport)"},
	stepcontract.ImportEvents:           {importrun.WireImportEvents, "steprun.Main(stepcontract.ImportEvents, importrun.WireImportEvents)"},
	stepcontract.VerifyQuery:            {verify.WireVerifyQuery, "steprun.Main(stepcontract.VerifyQuery, verify.WireVerifyQuery)"},
	stepcontract.CleanupLakeFormation:   {lakeformation.WireCleanupLakeFormation, "steprun.Main(stepcontract.CleanupLakeFormation, lakeformation.WireCleanupLakeFormation)"},
	stepcontract.FirstRun:               {firstrun.WireFirstRun, "steprun.Main(stepcontract.FirstRun, firstrun.WireFirstRun)"},
	stepcontract.ManageNetwork:          {preflight.WireManageNetwork, "steprun.Main(stepcontract.ManageNetwork, preflight.WireManageNetwork)"},
}

// Moto is a running moto server.
type Moto struct {
	URL  string
	stop func()
}

// Stop ends the server.
func (m *Moto) Stop() { m.stop() }

// StartMoto starts the pinned moto server on a free loopback port.
func StartMoto() (*Moto, error) {
	srv, err := motoserver.Start()
	if err != nil {
		return nil, err
	}
	return &Moto{URL: srv.URL, stop: srv.Stop}, nil
}
