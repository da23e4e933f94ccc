// Package config is lakeforge's one configuration: a typed struct read from
// the "lakeforge" key of the cdk.json context, filled with the defaults of the
// original manual build, and validated before any construct is made.
package config

import (
	"sort"
	"strconv"
	"strings"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// Config is everything a deployment can set. The JSON names are the keys of
// the "lakeforge" object in cdk.json.
type Config struct {
	// StackName is the CloudFormation stack name and the prefix of named resources.
	StackName string `json:"stackName"`
	// LogRetentionDays is how long Lambda, state machine and Glue logs are kept.
	LogRetentionDays int `json:"logRetentionDays"`

	Lake          LakeConfig          `json:"lake"`
	Database      DatabaseConfig      `json:"database"`
	LFTags        LFTagsConfig        `json:"lfTags"`
	Personas      PersonasConfig      `json:"personas"`
	LakeFormation LakeFormationConfig `json:"lakeFormation"`
	Source        SourceConfig        `json:"source"`
	Network       NetworkConfig       `json:"network"`
	Import        ImportConfig        `json:"import"`
	Schedule      ScheduleConfig      `json:"schedule"`
	Athena        AthenaConfig        `json:"athena"`
	Notifications NotificationsConfig `json:"notifications"`
	Preflight     PreflightConfig     `json:"preflight"`
	// Governance is column-level sensitivity (governance.go).
	Governance GovernanceConfig `json:"governance"`
}

// LakeConfig is where the imported data lives.
type LakeConfig struct {
	// BucketName of the data lake bucket the stack creates; empty lets
	// CloudFormation name it.
	BucketName string `json:"bucketName,omitempty"`
	// ExistingBucketName adopts a bucket that already exists (the one a
	// previous deployment kept on `make destroy`): the stack creates no
	// bucket and applies its bucket policy to this one.
	ExistingBucketName string `json:"existingBucketName,omitempty"`
	// Prefix under the bucket that Lake Formation registers and the import
	// writes to, e.g. "lake/". Must end with "/".
	Prefix string `json:"prefix"`
}

// DatabaseConfig is the Glue database the import writes to. It is tagged with
// the workflow tag (so the workflow role may create tables) and, after every
// import, with the analyst tag (so analysts may read them).
type DatabaseConfig struct {
	Name string `json:"name"`
	// TablePrefix is prepended to every lake table the import job
	// registers, as the blueprint did ("workflow_kthr01_products").
	TablePrefix string `json:"tablePrefix"`
}

// TagRef is one LF-tag key and one of its values.
type TagRef = stepcontract.TagRef

// LFTagsConfig is the LF-tag ontology and the two tags that grants use.
type LFTagsConfig struct {
	// Tags maps each LF-tag key to its allowed values. lakeforge creates
	// missing keys and values and never deletes any.
	Tags map[string][]string `json:"tags"`
	// Workflow is the tag on the output database that gives the workflow
	// role ALL on the database and its tables.
	Workflow TagRef `json:"workflow"`
	// Analyst is the tag assigned to the output database after every import;
	// analysts get DESCRIBE on databases and SELECT+DESCRIBE on tables with it.
	Analyst TagRef `json:"analyst"`
}

// Keys returns the LF-tag keys in a stable order.
func (c LFTagsConfig) Keys() []string {
	keys := make([]string, 0, len(c.Tags))
	for k := range c.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LakeFormationConfig is how far lakeforge reaches into the account's Lake
// Formation settings.
type LakeFormationConfig struct {
	// AccountSettings is one of stepcontract.AccountSettingsValues:
	// "import-only" (the default) turns on only what the
	// import needs account-wide, AllowFullTableExternalDataAccess;
	// "manage" (opt-in) also makes every run empty the account-wide
	// default permissions for new databases and tables and revoke
	// IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE on the catalog (undoing anyone
	// else's change, which the run reports), which breaks other stacks of
	// the account that create Glue databases with IAM permissions alone;
	// "leave" never touches any of them.
	AccountSettings string `json:"accountSettings"`
}

// PersonaConfig describes one Lake Formation persona (admins or analysts).
type PersonaConfig struct {
	// CreateRole makes the stack create an IAM role for the persona, and an
	// IAM group whose members may assume it.
	CreateRole bool `json:"createRole"`
	// GroupName of the IAM group created with the role; empty for none.
	GroupName string `json:"groupName"`
	// AdoptGroup says the group GroupName exists already (the blog's manual
	// build made dl_admins and dl_users): the stack attaches the policy that
	// lets its members assume the role to that group instead of creating
	// it. IAM group names are unique in an account, so creating it again
	// fails the deploy with EntityAlreadyExists.
	AdoptGroup bool `json:"adoptGroup"`
	// PrincipalARNs are existing IAM users or roles that get the persona's
	// Lake Formation permissions too (or instead, with CreateRole false).
	PrincipalARNs []string `json:"principalArns"`
}

// PersonasConfig is who administers the lake and who queries it.
type PersonasConfig struct {
	Admins   PersonaConfig `json:"admins"`
	Analysts PersonaConfig `json:"analysts"`
}

// Supported source engines.
const (
	EnginePostgreSQL = stepcontract.EnginePostgreSQL
	EngineMySQL      = stepcontract.EngineMySQL
	EngineMariaDB    = stepcontract.EngineMariaDB
)

// SupportedEngines lists the engines lakeforge can import from.
var SupportedEngines = stepcontract.SupportedEngines

// SourceConfig is the RDS database the import reads.
type SourceConfig struct {
	Engine       string `json:"engine"`
	Host         string `json:"host"`
	Port         int    `json:"port"`
	DatabaseName string `json:"databaseName"`
	// SecretARN of a Secrets Manager secret with "username" and "password".
	SecretARN string `json:"secretArn"`
	// IncludePaths select the tables to import, in Glue's JDBC include-path
	// syntax (<database>/<schema>/<table>, % and _ as in SQL LIKE), e.g.
	// "kthr01/public/%". Empty means every table of
	// DatabaseName.
	IncludePaths []string `json:"includePaths"`
	// RequireTLS makes the Glue connection and the preflight handshake use TLS.
	RequireTLS bool `json:"requireTls"`
	// SecretKMSKeyARN is the customer managed KMS key that encrypts the
	// secret, if any: the roles that read the secret get kms:Decrypt on it
	// (through Secrets Manager only). Empty: the secret uses aws/secretsmanager.
	SecretKMSKeyARN string `json:"secretKmsKeyArn"`
}

// JDBCURL is the Glue connection URL of the source.
func (s SourceConfig) JDBCURL() string {
	scheme := s.Engine
	if s.Engine == EngineMariaDB {
		// Glue's bundled driver for MariaDB is the MySQL one.
		scheme = EngineMySQL
	}
	return "jdbc:" + scheme + "://" + s.Host + ":" + strconv.Itoa(s.Port) + "/" + s.DatabaseName
}

// EffectiveIncludePaths returns IncludePaths, or the whole database when empty.
func (s SourceConfig) EffectiveIncludePaths() []string {
	if len(s.IncludePaths) > 0 {
		return s.IncludePaths
	}
	if s.Engine == EnginePostgreSQL {
		return []string{s.DatabaseName + "/%/%"}
	}
	return []string{s.DatabaseName + "/%"}
}

// NetworkConfig is where Glue's network interfaces go to reach the source.
type NetworkConfig struct {
	VPCID            string   `json:"vpcId"`
	SubnetID         string   `json:"subnetId"`
	AvailabilityZone string   `json:"availabilityZone"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
	// Manage says the stack owns the network: at deploy a custom resource
	// creates what the preflight checks find missing (the self-referencing
	// inbound rule on the first security group, the S3 route of the
	// subnet's route table, the interface endpoints the job needs without
	// a NAT route) and nothing that exists; it removes what it created when
	// the stack is deleted. Off by default: most accounts manage VPCs
	// elsewhere.
	Manage bool `json:"manage"`
	// RouteTableIDs is no longer used: network.manage finds the subnet's
	// route table at deploy. Synth warns when it is set.
	RouteTableIDs []string `json:"routeTableIds"`
}

// Import modes.
const (
	ModeSnapshot    = "snapshot"
	ModeIncremental = "incremental"
	ModeMerge       = "merge"
)

// DefaultMergeOverlapMinutes is how far below its watermark a merge run
// re-reads a date or timestamp change column, for transactions that commit
// after the run that read past them.
const DefaultMergeOverlapMinutes = 5

// DefaultOrphanFileAgeHours is the age a file under a lake table's location
// must reach, unreferenced, before the import removes it (Iceberg's own
// default for remove_orphan_files, and the Glue optimizer's, is 3 days).
const DefaultOrphanFileAgeHours = 72

// ImportConfig shapes the Glue import workflow.
type ImportConfig struct {
	// Mode is the whole lake's default: snapshot, incremental or merge.
	Mode string `json:"mode"`
	// Tables sets single tables (by lake table name: the source table's
	// name in lower case) apart from Mode, with merge mode's key and
	// change column.
	Tables map[string]TableImportConfig `json:"tables"`
	// MergeOverlapMinutes is how far below the watermark a merge run
	// re-reads a date or timestamp change column, so a transaction that
	// commits after a run with an older change value is not lost.
	MergeOverlapMinutes int `json:"mergeOverlapMinutes"`
	// OrphanFileAgeHours: files under a table's location that no snapshot
	// references (left by failed or killed runs) are removed once this old.
	// It must exceed the longest job run, or a running write could lose
	// files it has not committed yet.
	OrphanFileAgeHours int `json:"orphanFileAgeHours"`
	// BookmarkKeys maps a source table name to its monotonic key column
	// (one), required for every table in incremental mode: the import reads
	// the rows above the highest key already in the lake table.
	BookmarkKeys map[string][]string `json:"bookmarkKeys"`
	// Partitioning sets, per source table, the numeric column and number of
	// ranges its JDBC read is split into. Tables not listed are split on a
	// single-column integer primary key, one range per executor core.
	Partitioning map[string]PartitionConfig `json:"partitioning"`
	// SnapshotRetentionDays keeps older Iceberg snapshots of every lake table
	// this many days, for time travel and rollback; older ones are expired.
	SnapshotRetentionDays int    `json:"snapshotRetentionDays"`
	WorkerType            string `json:"workerType"`
	NumberOfWorkers       int    `json:"numberOfWorkers"`
	// ExecutionClass is FLEX (cheaper, may start later) or STANDARD.
	ExecutionClass string `json:"executionClass"`
	// JobTimeoutMinutes bounds one import job run.
	JobTimeoutMinutes int `json:"jobTimeoutMinutes"`
	// WaitTimeoutMinutes bounds how long the state machine waits for a
	// workflow run before it reports a failure.
	WaitTimeoutMinutes int `json:"waitTimeoutMinutes"`
	// RowCountTolerance is the fraction (0 to 1) by which Athena's count may
	// differ from the count the import recorded before verification fails.
	RowCountTolerance float64 `json:"rowCountTolerance"`
	// AdoptLocations are S3 prefixes (s3://bucket/prefix/) the import job
	// may read besides the lake: the Parquet files of the tables a Lake
	// Formation blueprint wrote, which the import converts in place
	// (docs/migration.md). Read only; empty for none.
	AdoptLocations []string `json:"adoptLocations"`
}

// TableImportConfig is one table's import setting.
type TableImportConfig struct {
	// Mode is snapshot, incremental or merge; empty takes import.mode.
	Mode string `json:"mode"`
	// Key is merge mode's row identity; empty takes the source table's
	// primary key.
	Key []string `json:"key"`
	// ChangeColumn is the column the application sets on every insert and
	// update (a timestamp such as updated_at, or a number from a
	// sequence): merge mode reads the rows whose value is at or above the
	// lake's watermark less the overlap.
	ChangeColumn string `json:"changeColumn"`
	// OverlapValues is the overlap for a numeric change column, in the
	// column's own units (import.mergeOverlapMinutes applies to date and
	// timestamp columns).
	OverlapValues int64 `json:"overlapValues"`
}

// EffectiveMode is the mode of the lake table name: its own, else import.mode.
func (im ImportConfig) EffectiveMode(table string) string {
	if t, ok := im.Tables[table]; ok && t.Mode != "" {
		return t.Mode
	}
	return im.Mode
}

// PartitionConfig splits one table's JDBC read into key ranges.
type PartitionConfig struct {
	Column     string `json:"column"`
	Partitions int    `json:"partitions"`
}

// ScheduleConfig is when the daily run starts.
type ScheduleConfig struct {
	Enabled bool `json:"enabled"`
	// Expression in EventBridge Scheduler syntax: cron(...) or rate(...).
	Expression string `json:"expression"`
	TimeZone   string `json:"timeZone"`
	// RunAtDeploy starts one execution right after a deploy that created
	// or changed the pipeline.
	RunAtDeploy bool `json:"runAtDeploy"`
}

// AthenaConfig is the analysts' query workgroup.
type AthenaConfig struct {
	WorkgroupName string `json:"workgroupName"`
	// BytesScannedCutoffPerQuery cancels queries that scan more (bytes).
	BytesScannedCutoffPerQuery int64 `json:"bytesScannedCutoffPerQuery"`
}

// NotificationsConfig is who hears about failures.
type NotificationsConfig struct {
	// Emails are subscribed to the failure topic (each must confirm).
	Emails []string `json:"emails"`
}

// PreflightConfig controls the source connection checks.
type PreflightConfig struct {
	// Repair lets the check add a missing self-referencing security group
	// rule and S3 gateway endpoint instead of failing.
	Repair bool `json:"repair"`
}

// Default returns the configuration of the original manual build. The source
// and network have no sensible defaults and stay empty.
func Default() Config {
	return Config{
		StackName:        "lakeforge",
		LogRetentionDays: 30,
		Lake:             LakeConfig{Prefix: "lake/"},
		Database:         DatabaseConfig{Name: "kthr01", TablePrefix: "workflow_kthr01_"},
		LFTags: LFTagsConfig{
			Tags: map[string][]string{
				"maintenance": {"crawler", "manual"},
				"source":      {"product"},
			},
			Workflow: TagRef{Key: "maintenance", Value: "crawler"},
			Analyst:  TagRef{Key: "source", Value: "product"},
		},
		Personas: PersonasConfig{
			Admins:   PersonaConfig{CreateRole: true, GroupName: "dl_admins"},
			Analysts: PersonaConfig{CreateRole: true, GroupName: "dl_users"},
		},
		LakeFormation: LakeFormationConfig{AccountSettings: stepcontract.AccountSettingsImportOnly},
		Source:        SourceConfig{Engine: EnginePostgreSQL, Port: 5432},
		Import: ImportConfig{
			Mode:                  ModeSnapshot,
			MergeOverlapMinutes:   DefaultMergeOverlapMinutes,
			OrphanFileAgeHours:    DefaultOrphanFileAgeHours,
			SnapshotRetentionDays: 7,
			WorkerType:            "G.1X",
			NumberOfWorkers:       2,
			ExecutionClass:        "FLEX",
			JobTimeoutMinutes:     120,
			WaitTimeoutMinutes:    360,
			RowCountTolerance:     0,
		},
		Schedule: ScheduleConfig{Enabled: true, Expression: "cron(45 9 * * ? *)", TimeZone: "UTC", RunAtDeploy: true},
		Athena: AthenaConfig{
			WorkgroupName:              "lakeforge",
			BytesScannedCutoffPerQuery: 10 * 1024 * 1024 * 1024,
		},
		Governance: DefaultGovernance(),
	}
}

// ResourceNames are the names of the resources several parts refer to.
// They derive from StackName, so two stacks in one account never collide.
type ResourceNames struct {
	Connection   string // Glue JDBC connection to the source
	Workflow     string // Glue workflow that runs one import
	ImportJob    string // PySpark job that writes the lake
	StateMachine string // the daily pipeline
	Schedule     string // EventBridge Scheduler schedule that starts the pipeline
	// GlueSecurityConfiguration encrypts the Glue logs and job bookmarks.
	GlueSecurityConfiguration string
	// StateMachineLogGroup receives the pipeline's execution logs.
	StateMachineLogGroup string
	// Dashboard is the CloudWatch dashboard of the pipeline.
	Dashboard string
}

// Names returns the resource names of this configuration.
func (c Config) Names() ResourceNames {
	p := c.StackName
	return ResourceNames{
		Connection:   p + "-source",
		Workflow:     p + "-import",
		ImportJob:    p + "-import-job",
		StateMachine: p + "-pipeline",
		Schedule:     p + "-daily",

		GlueSecurityConfiguration: p + "-glue",
		StateMachineLogGroup:      "/aws/vendedlogs/states/" + p + "-pipeline",
		Dashboard:                 p + "-pipeline",
	}
}

// LakeBucketName is the bucket the lake lives in when the configuration
// names one (created or adopted); empty when CloudFormation names it.
func (c Config) LakeBucketName() string {
	if c.Lake.ExistingBucketName != "" {
		return c.Lake.ExistingBucketName
	}
	return c.Lake.BucketName
}

// derivedName is one resource name derived from stackName and the longest
// name AWS accepts for that resource.
type derivedName struct {
	what string
	name string
	max  int
}

// derivedNames lists every name derived from stackName with its AWS limit:
// CloudFormation stack names 128, EventBridge Scheduler schedules 64, Step
// Functions state machines 80, Glue names (connection, workflow, trigger,
// job, security configuration) 255, CloudWatch log groups 512, CloudWatch
// dashboards 255. The workflow's one trigger is <workflow>-start
// (infra/stack/importworkflow.go).
func (c Config) derivedNames() []derivedName {
	n := c.Names()
	return []derivedName{
		{"CloudFormation stack", c.StackName, 128},
		{"EventBridge Scheduler schedule", n.Schedule, 64},
		{"Step Functions state machine", n.StateMachine, 80},
		{"Glue connection", n.Connection, 255},
		{"Glue workflow", n.Workflow, 255},
		{"Glue trigger", n.Workflow + "-start", 255},
		{"Glue job", n.ImportJob, 255},
		{"Glue security configuration", n.GlueSecurityConfiguration, 255},
		{"CloudWatch log group", n.StateMachineLogGroup, 512},
		{"CloudWatch dashboard", n.Dashboard, 255},
	}
}

// MaxStackNameLength is the longest stackName whose derived names all fit
// their AWS limits.
func MaxStackNameLength() int {
	n, _ := bindingName()
	return n
}

// bindingName is the derived name that bounds stackName, and the bound.
func bindingName() (int, derivedName) {
	probe := Config{StackName: "x"}
	best, binding := -1, derivedName{}
	for _, d := range probe.derivedNames() {
		if room := d.max - (len(d.name) - 1); best < 0 || room < best {
			best, binding = room, d
		}
	}
	binding.name = strings.Replace(binding.name, "x", "<stackName>", 1)
	return best, binding
}
