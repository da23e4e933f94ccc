package lakeformation

import "github.com/lakeforge/lakeforge/pkg/stepcontract"

// Environment variables of the access-model functions, defined once in
// pkg/stepcontract (see there for what each holds). The stack
// (infra/stack/accessmodel.go) sets them; each step's wiring (wire.go)
// reads them once at cold start.
const (
	EnvAdmins                = stepcontract.EnvAdmins
	EnvOwnAdmins             = stepcontract.EnvOwnAdmins
	EnvAccountSettings       = stepcontract.EnvAccountSettings
	EnvTagPermissions        = stepcontract.EnvTagPermissions
	EnvConfiguredAnalystARNs = stepcontract.EnvConfiguredAnalystARNs
	EnvTags                  = stepcontract.EnvTags
	EnvLocationARN           = stepcontract.EnvLocationARN
	EnvLocationRoleARN       = stepcontract.EnvLocationRoleARN
	EnvWorkflowRoleARN       = stepcontract.EnvWorkflowRoleARN
	EnvDatabaseName          = stepcontract.EnvDatabaseName
	EnvDatabaseLocation      = stepcontract.EnvDatabaseLocation
	EnvWorkflowTag           = stepcontract.EnvWorkflowTag
	EnvAnalystTag            = stepcontract.EnvAnalystTag
	EnvAnalystARNs           = stepcontract.EnvAnalystARNs
	EnvTagOutputRoleARN      = stepcontract.EnvTagOutputRoleARN
)
