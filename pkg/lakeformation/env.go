package lakeformation

// Environment variables of the access-model functions. The stack
// (infra/stack/accessmodel.go) sets them; each function's main reads them
// once at cold start.
const (
	// EnvAdmins is a comma-separated list of the configured administrators
	// (personas.admins.principalArns) that ConfigureLakeFormation makes data
	// lake administrators; it may be empty.
	EnvAdmins = "LF_ADMIN_ARNS"
	// EnvOwnAdmins is a comma-separated list of the stack's own roles that
	// are data lake administrators: the admin role (when the stack creates
	// it) and the access-model roles. They are never dropped, and the
	// stack-delete cleanup removes exactly them.
	EnvOwnAdmins = "LF_OWN_ADMIN_ARNS"
	// EnvAccountSettings is lakeFormation.accountSettings: "manage" or "leave".
	EnvAccountSettings = "LF_ACCOUNT_SETTINGS"
	// EnvTagPermissions is the LF-tag permissions EnsureLFTags grants, as
	// JSON [{"principal":..,"key":..,"value":..,"permissions":[..]}].
	EnvTagPermissions = "LF_TAG_PERMISSIONS_JSON"
	// EnvTags is the LF-tag ontology as JSON: {"key": ["value", ...]}.
	EnvTags = "LF_TAGS_JSON"
	// EnvLocationARN is the S3 ARN of the lake prefix to register.
	EnvLocationARN = "LAKE_LOCATION_ARN"
	// EnvLocationRoleARN is the role the registration must use: Lake
	// Formation's service-linked role in this account.
	EnvLocationRoleARN = "LAKE_LOCATION_ROLE_ARN"
	// EnvWorkflowRoleARN is the Glue workflow role.
	EnvWorkflowRoleARN = "WORKFLOW_ROLE_ARN"
	// EnvDatabaseName is the Glue database the import writes.
	EnvDatabaseName = "DATABASE_NAME"
	// EnvSourceDatabaseName is the Glue database the source crawler writes
	// (table definitions of the source, no data).
	EnvSourceDatabaseName = "SOURCE_DATABASE_NAME"
	// EnvDatabaseLocation is the database's s3:// location (the lake prefix).
	EnvDatabaseLocation = "DATABASE_LOCATION_URI"
	// EnvWorkflowTag and EnvAnalystTag are LF-tags as JSON {"key":..,"value":..}.
	EnvWorkflowTag = "WORKFLOW_LF_TAG"
	EnvAnalystTag  = "ANALYST_LF_TAG"
	// EnvAnalystARNs is a comma-separated list of analyst principal ARNs.
	EnvAnalystARNs = "ANALYST_ARNS"
	// EnvConfiguredAnalystARNs is the part of EnvAnalystARNs that comes from
	// personas.analysts.principalArns (errors name that setting).
	EnvConfiguredAnalystARNs = "CONFIGURED_ANALYST_ARNS"
	// EnvOutputCrawler is the crawler whose success events TagOutput accepts.
	EnvOutputCrawler = "OUTPUT_CRAWLER_NAME"
)
