// Package stepcontract is the contract between the CDK stack and what runs
// against it, defined once for every side: the folder name of every step
// function, the name of every environment variable the stack sets and a
// step reads, the one encoding of structured values in those variables,
// the ASL placeholder of each function's ARN, and the keys of the stack's
// outputs the CLI and the demo read.
//
// The template contract test (infra/stack) starts every step's real wiring
// with exactly the environment of the synthesized template, so a name or
// an encoding that differs between the two sides fails a test.
package stepcontract

import (
	"encoding/json"
	"strings"
)

// Step functions, by folder under functions/.
const (
	ConfigureLakeFormation = "configure-lake-formation"
	EnsureLFTags           = "ensure-lf-tags"
	RegisterLocation       = "register-location"
	EnsureDatabase         = "ensure-database"
	GrantTagPermissions    = "grant-tag-permissions"
	TagOutput              = "tag-output"
	TestConnection         = "test-connection"
	StartImport            = "start-import"
	ImportEvents           = "import-events"
	VerifyQuery            = "verify-query"
	// CleanupLakeFormation is no pipeline step: the handler of the custom
	// resource whose deletion, with the stack, cleans up Lake Formation.
	CleanupLakeFormation = "cleanup-lake-formation"
	// FirstRun is no pipeline step: the handler of the custom resource
	// that starts the first execution at deploy (schedule.runAtDeploy).
	FirstRun = "first-run"
	// ManageNetwork is no pipeline step: the handler of network.manage's
	// custom resource.
	ManageNetwork = "manage-network"
)

// Functions lists every step function, in the order the pipeline runs them.
var Functions = []string{
	ConfigureLakeFormation, EnsureLFTags, RegisterLocation, EnsureDatabase, GrantTagPermissions,
	TestConnection, StartImport, ImportEvents, TagOutput, VerifyQuery, CleanupLakeFormation, FirstRun, ManageNetwork,
}

// Environment variables. Structured values (lists, objects) are JSON
// (Encode); scalars are plain strings, numbers and "true"/"false".
const (
	// EnvAdmins is a JSON array of the configured administrators
	// (personas.admins.principalArns) that ConfigureLakeFormation makes
	// data lake administrators; may be [].
	EnvAdmins = "LF_ADMIN_ARNS"
	// EnvOwnAdmins is a JSON array of the stack's own roles that are data
	// lake administrators (admin role, access-model roles, the cleanup's):
	// never dropped; the stack-delete cleanup removes exactly them.
	EnvOwnAdmins = "LF_OWN_ADMIN_ARNS"
	// EnvAccountSettings is lakeFormation.accountSettings: "import-only",
	// "manage" or "leave".
	EnvAccountSettings = "LF_ACCOUNT_SETTINGS"
	// EnvTagPermissions is the LF-tag permissions EnsureLFTags grants, as
	// JSON [{"principal":..,"tag":{"key":..,"value":..},"permissions":[..]}].
	EnvTagPermissions = "LF_TAG_PERMISSIONS_JSON"
	// EnvConfiguredAnalystARNs is the part of EnvAnalystARNs from
	// personas.analysts.principalArns (errors name that setting); may be [].
	EnvConfiguredAnalystARNs = "CONFIGURED_ANALYST_ARNS"
	// EnvTags is the LF-tag ontology as JSON: {"key": ["value", ...]}.
	EnvTags = "LF_TAGS_JSON"
	// EnvLocationARN is the S3 ARN of the lake prefix to register.
	EnvLocationARN = "LAKE_LOCATION_ARN"
	// EnvLocationRoleARN is the role the registration must use: the
	// stack's user-defined registration role (Glue 5.0 full table access
	// needs one; a registration with the service-linked role is moved to it).
	EnvLocationRoleARN = "LAKE_LOCATION_ROLE_ARN"
	// EnvWorkflowRoleARN is the Glue workflow role.
	EnvWorkflowRoleARN = "WORKFLOW_ROLE_ARN"
	// EnvDatabaseName is the Glue database the import writes.
	EnvDatabaseName = "DATABASE_NAME"
	// EnvDatabaseLocation is the database's s3:// location (the lake prefix).
	EnvDatabaseLocation = "DATABASE_LOCATION_URI"
	// EnvWorkflowTag and EnvAnalystTag are LF-tags as JSON {"key":..,"value":..}.
	EnvWorkflowTag = "WORKFLOW_LF_TAG"
	EnvAnalystTag  = "ANALYST_LF_TAG"
	// EnvAnalystARNs is a JSON array of analyst principal ARNs (may be []).
	EnvAnalystARNs = "ANALYST_ARNS"
	// EnvGovernance is the governance configuration as JSON (access.Governance:
	// column sensitivity rules, analyst values, readers); {"enabled":false}
	// without it. GrantTagPermissions and TagOutput read it.
	EnvGovernance = "LF_GOVERNANCE_JSON"
	// EnvTagOutputRoleARN is TagOutput's role, to which EnsureDatabase
	// grants ALL with the grant option on the lake database (what
	// assigning an LF-tag to a resource one did not create requires).
	EnvTagOutputRoleARN = "TAG_OUTPUT_ROLE_ARN"

	// EnvWorkflowName is the Glue import workflow StartImport starts and
	// import-events follows.
	EnvWorkflowName = "WORKFLOW_NAME"
	// EnvWaitTimeoutMinutes bounds the wait for one import run.
	EnvWaitTimeoutMinutes = "WAIT_TIMEOUT_MINUTES"
	// EnvTokenTable is the DynamoDB table that keeps the waiting executions'
	// task tokens (access-controlled, never logged).
	EnvTokenTable = "TOKEN_TABLE"
	// EnvImportJob is the Glue import job whose state changes end the wait.
	EnvImportJob = "IMPORT_JOB_NAME"
	// EnvTagFunction is the TagOutput function invoked for runs that ended
	// well outside the state machine.
	EnvTagFunction = "TAG_OUTPUT_FUNCTION"

	// EnvConnectionName is the Glue connection TestConnection checks.
	EnvConnectionName = "LAKEFORGE_CONNECTION_NAME"
	// EnvStackName tags what repair mode creates.
	EnvStackName = "LAKEFORGE_STACK_NAME"
	// EnvRequiredFreeIPs is the free addresses the connection's subnet needs.
	EnvRequiredFreeIPs = "LAKEFORGE_REQUIRED_FREE_IPS"
	// EnvRepair is "true" when TestConnection may add missing network pieces.
	EnvRepair = "LAKEFORGE_REPAIR"
	// EnvSecretKMSKeyARN is source.secretKmsKeyArn, the customer-managed key
	// of the source secret (optional), which preflight compares with the
	// secret's own.
	EnvSecretKMSKeyARN = "LAKEFORGE_SECRET_KMS_KEY_ARN"

	// EnvLakeBucket is the lake bucket, where the import writes its manifests.
	EnvLakeBucket = "LAKE_BUCKET"
	// EnvRunsPrefix is the key prefix of the import manifests.
	EnvRunsPrefix = "RUNS_PREFIX"
	// EnvTablePrefix is database.tablePrefix, the prefix of the lake
	// tables' names (may be empty).
	EnvTablePrefix = "TABLE_PREFIX"
	// EnvWorkgroup is the Athena workgroup VerifyQuery queries in.
	EnvWorkgroup = "WORKGROUP"
	// EnvAnalystRoleARN is the role VerifyQuery assumes to query.
	EnvAnalystRoleARN = "ANALYST_ROLE_ARN"
	// EnvMetricNamespace is where VerifyQuery publishes its figures.
	EnvMetricNamespace = "METRIC_NAMESPACE"
	// EnvRowCountTolerance is the fraction by which counts may differ.
	EnvRowCountTolerance = "ROW_COUNT_TOLERANCE"
)

// Values of lakeFormation.accountSettings, which ConfigureLakeFormation
// reads from EnvAccountSettings: how far lakeforge reaches into the
// account's Lake Formation settings.
const (
	// AccountSettingsImportOnly, the default, changes one account-wide
	// setting, the one the import needs: it turns on
	// AllowFullTableExternalDataAccess (Glue 5.0 full table access). The
	// default permissions and IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE,
	// which other stacks of the account rely on, are left as they are.
	AccountSettingsImportOnly = "import-only"
	// AccountSettingsManage (opt-in) also empties both default-permission
	// lists and revokes IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE on the
	// catalog, every run, so Lake Formation alone governs new databases
	// and tables of the whole account.
	AccountSettingsManage = "manage"
	// AccountSettingsLeave never touches them: the operator owns them,
	// and full table access must be on already.
	AccountSettingsLeave = "leave"
)

// AccountSettingsValues are the accepted values of lakeFormation.accountSettings.
var AccountSettingsValues = []string{AccountSettingsImportOnly, AccountSettingsManage, AccountSettingsLeave}

// Stack output keys: the stack exports each under its key (its logical
// id, wherever the lake is); the CLI and the demo read them.
const (
	OutputLakeBucketName    = "LakeBucketName"
	OutputResultsBucketName = "AthenaResultsBucketName"
	OutputWorkgroup         = "AthenaWorkgroup"
	OutputStateMachineArn   = "StateMachineArn"
	OutputWorkflowName      = "ImportWorkflowName"
	OutputDashboardName     = "DashboardName"
	OutputFailureTopicArn   = "FailureTopicArn"
	OutputConnectionName    = "GlueConnectionName"
	OutputWorkflowRoleArn   = "WorkflowRoleArn"
	OutputAdminRoleArn      = "AdminRoleArn"
	OutputAnalystRoleArn    = "AnalystRoleArn"
)

// Encode is the one encoding of structured values (lists, objects) in a
// step's environment and in the import job's arguments: JSON. The stack
// writes with it; a step reads with lambdaenv.Reader.JSON, the job with
// json.loads.
func Encode(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("stepcontract.Encode: " + err.Error()) // plain values always marshal
	}
	return string(raw)
}

// FunctionArnPlaceholder is the name of the ASL placeholder for a step
// function's ARN, ${<Pascal>FunctionArn}: "register-location" gives
// "RegisterLocationFunctionArn". Each dash-separated word is capitalised and
// nothing else changes, so "ensure-lf-tags" gives "EnsureLfTagsFunctionArn"
// (the state is EnsureLFTags; the placeholder follows the folder name).
func FunctionArnPlaceholder(function string) string {
	return Pascal(function) + "FunctionArn"
}

// Pascal turns a folder name into the PascalCase of construct ids and
// placeholders: "register-location" -> "RegisterLocation".
func Pascal(name string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// TagRef is one LF-tag key and value, encoded {"key":..,"value":..} in the
// steps' environment. config.TagRef is this type, so the step packages need
// not link the configuration package.
type TagRef struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (t TagRef) String() string { return t.Key + "=" + t.Value }

// The source engines lakeforge imports from (source.engine).
const (
	EnginePostgreSQL = "postgresql"
	EngineMySQL      = "mysql"
	EngineMariaDB    = "mariadb"
)

// SupportedEngines lists the engines lakeforge can import from.
var SupportedEngines = []string{EnginePostgreSQL, EngineMySQL, EngineMariaDB}
