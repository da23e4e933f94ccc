package lakeformation

// Environment variables of the access-model functions. The stack
// (infra/stack/accessmodel.go) sets them; each function's main reads them
// once at cold start.
const (
	// EnvAdmins is a comma-separated list of the IAM principal ARNs that
	// ConfigureLakeFormation makes data lake administrators: the configured
	// admins and the pipeline's own roles.
	EnvAdmins = "LF_ADMIN_ARNS"
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
	// EnvOutputCrawler is the crawler whose success events TagOutput accepts.
	EnvOutputCrawler = "OUTPUT_CRAWLER_NAME"
)
