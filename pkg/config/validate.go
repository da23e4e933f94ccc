package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones must validate the same on every machine and in Lambda
	"unicode/utf8"
)

// Problem is one invalid setting.
type Problem struct {
	Path    string // e.g. "lakeforge.source.port"
	Value   string // the offending value as given
	Allowed string // what is allowed, or how to fix it
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %q: %s", p.Path, p.Value, p.Allowed)
}

// Problems is every invalid setting of a configuration, one per line.
type Problems struct{ List []Problem }

func (p *Problems) Error() string {
	lines := make([]string, len(p.List))
	for i, pr := range p.List {
		lines[i] = pr.String()
	}
	return fmt.Sprintf("invalid lakeforge configuration (%d problem(s)):\n%s", len(p.List), strings.Join(lines, "\n"))
}

// Paths returns the field paths of the problems, in order.
func (p *Problems) Paths() []string {
	out := make([]string, len(p.List))
	for i, pr := range p.List {
		out[i] = pr.Path
	}
	return out
}

type validator struct{ list []Problem }

func (v *validator) add(path, value, allowed string) {
	v.list = append(v.list, Problem{Path: ContextKey + "." + path, Value: value, Allowed: allowed})
}

var (
	// Glue accepts more, but Athena and Hive only lower case, digits and "_".
	glueNamePattern    = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	tablePrefixPattern = regexp.MustCompile(`^[a-z0-9_]{0,128}$`)
	lfTagKeyPattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]+$`)
	lfTagValuePattern  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:*/=+\-@%]+$`)
	iamPrincipalARN    = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:(user|role)/[\w+=,.@/-]{1,512}$`)
	iamGroupARN        = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::\d{12}:group/`)
	kmsKeyARNPattern   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/[0-9a-f-]{36}$|^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/mrk-[0-9a-f]{32}$`)
	secretARNPattern   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$`)
	vpcIDPattern       = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDPattern    = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
	sgIDPattern        = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	rtbIDPattern       = regexp.MustCompile(`^rtb-([0-9a-f]{8}|[0-9a-f]{17})$`)
	azPattern          = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d[a-z]$`)
	bucketCharsPattern = regexp.MustCompile(`^[a-z0-9.-]*$`)
	ipv4FormPattern    = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
	hostLabelPattern   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	s3PrefixPattern    = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]+/$`)
	stackNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	workgroupPattern   = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,128}$`)
	columnPattern      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	iamNamePattern     = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// LogRetentionChoices are the retentions (days) CloudWatch Logs accepts.
var LogRetentionChoices = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Glue worker types lakeforge accepts for the import job.
var workerTypes = []string{"G.1X", "G.2X", "G.4X", "G.8X"}

// flexWorkerTypes are the worker types Glue runs with the FLEX execution
// class ("Flexible job runs are supported for jobs using AWS Glue version
// 3.0 or later and G.1X or G.2X worker types").
var flexWorkerTypes = []string{"G.1X", "G.2X"}

// maxWorkers is the largest NumberOfWorkers per worker type: Glue's API
// reference gives 299 for G.1X and 149 for G.2X and names no maximum for
// the larger types, whose cap is left to the account's DPU quota.
var maxWorkers = map[string]int{"G.1X": 299, "G.2X": 149, "G.4X": 299, "G.8X": 299}

// Bounds of the import timeouts, in minutes. Glue refuses job timeouts of
// 7 days (10080 minutes) or more. The pipeline's first look at a run is
// after 10 minutes, and a run must end before the next daily one starts.
const (
	maxJobTimeoutMinutes  = 10079
	minWaitTimeoutMinutes = 10
	maxWaitTimeoutMinutes = 1440
)

// Validate reports every invalid setting, or nil.
func (c Config) Validate() error {
	v := &validator{}
	c.validateStackName(v)
	if !slices.Contains(LogRetentionChoices, c.LogRetentionDays) {
		v.add("logRetentionDays", strconv.Itoa(c.LogRetentionDays), "one of the CloudWatch Logs retention periods: "+joinInts(LogRetentionChoices))
	}
	c.validateLake(v)
	c.validateDatabase(v)
	c.validateLFTags(v)
	c.validatePersonas(v)
	if s := c.LakeFormation.AccountSettings; s != AccountSettingsManage && s != AccountSettingsLeave {
		v.add("lakeFormation.accountSettings", s, `"manage" (lakeforge owns the account-wide default permissions and IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE) or "leave" (you do)`)
	}
	c.validateSource(v)
	c.validateNetwork(v)
	c.validateImport(v)
	c.validateSchedule(v)
	c.validateAthena(v)
	for i, e := range c.Notifications.Emails {
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
			v.add(fmt.Sprintf("notifications.emails[%d]", i), e, "a plain e-mail address such as data-team@example.com")
		}
	}
	if len(v.list) == 0 {
		return nil
	}
	return &Problems{List: v.list}
}

func (c Config) validateStackName(v *validator) {
	limit, binding := bindingName()
	if !stackNamePattern.MatchString(c.StackName) || len(c.StackName) > limit {
		longest := ""
		for _, d := range c.derivedNames() {
			if len(d.name) > d.max {
				longest = fmt.Sprintf(" (the %s %q would have %d characters, over AWS's limit of %d)", d.what, d.name, len(d.name), d.max)
				break
			}
		}
		v.add("stackName", c.StackName, fmt.Sprintf("1 to %d letters, digits or '-', starting with a letter: a CloudFormation stack name whose derived names fit AWS's limits, the tightest being the %s %s (at most %d characters)%s", limit, binding.what, binding.name, binding.max, longest))
	}
}

// BucketNameProblem says why S3 refuses a general purpose bucket name, or
// "" when it follows S3's naming rules.
func BucketNameProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Sprintf("3 to 63 characters (this one has %d)", len(name))
	case !bucketCharsPattern.MatchString(name):
		return "only lower-case letters, digits, '.' and '-'"
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return "a letter or digit at the beginning and the end"
	case strings.Contains(name, ".."):
		return "no two adjacent periods"
	case ipv4FormPattern.MatchString(name):
		return "not formatted as an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return "not starting with the reserved prefix " + p
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return "not ending with the reserved suffix " + s
		}
	}
	return ""
}

func isAlnum(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }

func (c Config) validateLake(v *validator) {
	for _, b := range []struct{ path, name, empty string }{
		{"lake.bucketName", c.Lake.BucketName, "or empty to let CloudFormation name it"},
		{"lake.existingBucketName", c.Lake.ExistingBucketName, "or empty when the stack creates the bucket"},
	} {
		if b.name == "" {
			continue
		}
		if why := BucketNameProblem(b.name); why != "" {
			v.add(b.path, b.name, "an S3 bucket name that S3 accepts: "+why+" (S3's general purpose bucket naming rules); "+b.empty)
		}
	}
	if c.Lake.BucketName != "" && c.Lake.ExistingBucketName != "" {
		v.add("lake.existingBucketName", c.Lake.ExistingBucketName, "empty when lake.bucketName is set: set lake.bucketName for a bucket the stack creates, or lake.existingBucketName for one that exists (e.g. kept by `make destroy`), not both")
	}
	p := c.Lake.Prefix
	switch {
	case strings.HasPrefix(p, "s3://"):
		v.add("lake.prefix", p, "a key prefix inside the lake bucket such as \"lake/\", without \"s3://\" and the bucket name")
	case strings.HasPrefix(p, "/") || strings.Contains(p, "//") || !s3PrefixPattern.MatchString(p) || len(p) > 512:
		v.add("lake.prefix", p, "a relative S3 key prefix of letters, digits and !_.*'()-, segments separated by single '/', ending with '/', e.g. \"lake/\"")
	}
}

func (c Config) validateDatabase(v *validator) {
	if !glueNamePattern.MatchString(c.Database.Name) {
		v.add("database.name", c.Database.Name, "a Glue database name of 1 to 255 lower-case letters, digits or '_' (Athena cannot query other names)")
	} else if c.Database.Name == "default" {
		v.add("database.name", c.Database.Name, "a name other than \"default\": Athena and other AWS analytics services create and use the database \"default\" themselves")
	}
	if !tablePrefixPattern.MatchString(c.Database.TablePrefix) {
		v.add("database.tablePrefix", c.Database.TablePrefix, "lower-case letters, digits or '_', at most 128 characters (may be empty)")
	}
}

func (c Config) validateLFTags(v *validator) {
	if len(c.LFTags.Tags) == 0 {
		v.add("lfTags.tags", "{}", "at least one LF-tag key with values; the workflow and analyst tags must be among them")
	}
	if len(c.LFTags.Tags) > 50 {
		v.add("lfTags.tags", strconv.Itoa(len(c.LFTags.Tags))+" keys", "at most 50 LF-tag keys per account (Lake Formation quota)")
	}
	for _, k := range c.LFTags.Keys() {
		path := "lfTags.tags." + k
		if utf8.RuneCountInString(k) > 128 || !lfTagKeyPattern.MatchString(k) {
			v.add(path, k, "an LF-tag key: 1 to 128 letters, digits, spaces or _.:/=+-@%")
		} else if k != strings.ToLower(k) {
			v.add(path, k, "a lower-case LF-tag key (Lake Formation stores keys in lower case, so this one would never match)")
		}
		vals := c.LFTags.Tags[k]
		if len(vals) == 0 {
			v.add(path, "[]", "at least one value (Lake Formation needs one to create the key)")
		}
		if len(vals) > 1000 {
			v.add(path, strconv.Itoa(len(vals))+" values", "at most 1000 values per LF-tag key")
		}
		seen := map[string]bool{}
		for i, val := range vals {
			vp := fmt.Sprintf("%s[%d]", path, i)
			if utf8.RuneCountInString(val) > 256 || !lfTagValuePattern.MatchString(val) {
				v.add(vp, val, "an LF-tag value: 1 to 256 letters, digits, spaces or _.:*/=+-@%")
			}
			if seen[val] {
				v.add(vp, val, "each value once")
			}
			seen[val] = true
		}
	}
	c.validateTagRef(v, "lfTags.workflow", c.LFTags.Workflow)
	c.validateTagRef(v, "lfTags.analyst", c.LFTags.Analyst)
}

func (c Config) validateTagRef(v *validator, path string, t TagRef) {
	vals, ok := c.LFTags.Tags[t.Key]
	if !ok {
		v.add(path+".key", t.Key, "one of the keys of lfTags.tags: "+strings.Join(c.LFTags.Keys(), ", "))
		return
	}
	if !slices.Contains(vals, t.Value) {
		v.add(path+".value", t.Value, fmt.Sprintf("one of the values of lfTags.tags.%s: %s", t.Key, strings.Join(vals, ", ")))
	}
}

func (c Config) validatePersonas(v *validator) {
	for _, p := range []struct {
		name string
		cfg  PersonaConfig
	}{{"admins", c.Personas.Admins}, {"analysts", c.Personas.Analysts}} {
		base := "personas." + p.name
		if !p.cfg.CreateRole && len(p.cfg.PrincipalARNs) == 0 {
			v.add(base+".principalArns", "[]", "at least one IAM user or role ARN when createRole is false")
		}
		if p.name == "analysts" && !p.cfg.CreateRole && len(p.cfg.PrincipalARNs) > 0 && !hasRole(p.cfg.PrincipalARNs) {
			v.add(base+".principalArns", strings.Join(p.cfg.PrincipalARNs, ","), "at least one IAM role ARN when createRole is false: VerifyQuery assumes the first analyst role to prove analysts can query (a user cannot be assumed)")
		}
		if p.cfg.GroupName != "" && !iamNamePattern.MatchString(p.cfg.GroupName) {
			v.add(base+".groupName", p.cfg.GroupName, "an IAM group name: 1 to 128 letters, digits or +=,.@_-; or empty for no group")
		}
		if p.cfg.GroupName != "" && !p.cfg.CreateRole {
			v.add(base+".groupName", p.cfg.GroupName, "empty when createRole is false: the group exists to let its members assume the role the stack creates")
		}
		for i, arn := range p.cfg.PrincipalARNs {
			path := fmt.Sprintf("%s.principalArns[%d]", base, i)
			switch {
			case iamGroupARN.MatchString(arn):
				v.add(path, arn, "an IAM user or role ARN: Lake Formation cannot grant permissions to IAM groups; use a role the group's members may assume (set createRole and groupName)")
			case !iamPrincipalARN.MatchString(arn):
				v.add(path, arn, "an IAM user or role ARN such as arn:aws:iam::123456789012:role/analyst")
			}
		}
	}
}

func (c Config) validateSource(v *validator) {
	s := c.Source
	if !slices.Contains(SupportedEngines, s.Engine) {
		v.add("source.engine", s.Engine, "one of "+strings.Join(SupportedEngines, ", "))
	}
	if why := hostProblem(s.Host); why != "" {
		v.add("source.host", s.Host, "the database's DNS name or IPv4 address, e.g. mydb.abc123.eu-west-1.rds.amazonaws.com: "+why)
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add("source.port", strconv.Itoa(s.Port), "a TCP port from 1 to 65535 (PostgreSQL 5432, MySQL/MariaDB 3306)")
	}
	if s.DatabaseName == "" || strings.ContainsAny(s.DatabaseName, "/?;&= ") {
		v.add("source.databaseName", s.DatabaseName, "the source database's name, without '/', '?', ';', '&', '=' or spaces")
	}
	if s.SecretARN == "" {
		v.add("source.secretArn", s.SecretARN, "the ARN of a Secrets Manager secret with \"username\" and \"password\" keys (required)")
	} else if !secretARNPattern.MatchString(s.SecretARN) {
		v.add("source.secretArn", s.SecretARN, "a complete Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")
	}
	if s.SecretKMSKeyARN != "" && !kmsKeyARNPattern.MatchString(s.SecretKMSKeyARN) {
		v.add("source.secretKmsKeyArn", s.SecretKMSKeyARN, "the key ARN (not an alias) of the customer managed KMS key that encrypts source.secretArn, arn:aws:kms:<region>:<account>:key/<key-id>, or empty for aws/secretsmanager")
	}
	for i, p := range s.IncludePaths {
		if p == "" || strings.HasPrefix(p, "/") {
			v.add(fmt.Sprintf("source.includePaths[%d]", i), p, "a JDBC crawler include path such as <database>/<schema>/% (PostgreSQL) or <database>/% (MySQL)")
		}
	}
}

// hostProblem says why host is no DNS name or IPv4 address, or "".
func hostProblem(host string) string {
	switch {
	case host == "":
		return "required"
	case len(host) > 253:
		return fmt.Sprintf("at most 253 characters (this one has %d)", len(host))
	case ipv4FormPattern.MatchString(host):
		for _, part := range strings.Split(host, ".") {
			if n, err := strconv.Atoi(part); err != nil || n > 255 || len(part) > 3 {
				return "each part of an IPv4 address from 0 to 255"
			}
		}
		return ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return "no empty label (no leading, trailing or adjacent dots)"
		}
		if !hostLabelPattern.MatchString(label) {
			return fmt.Sprintf("labels of 1 to 63 letters, digits or '-', not beginning or ending with '-' (%q is not)", label)
		}
	}
	return ""
}

// RegionOfZone is the region of an availability zone name such as
// eu-west-1a, or "" when az is not one.
func RegionOfZone(az string) string {
	if !azPattern.MatchString(az) {
		return ""
	}
	return az[:len(az)-1]
}

// RegionOfARN is the region field of an ARN, or "" when arn has none.
func RegionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

func (c Config) validateNetwork(v *validator) {
	n := c.Network
	if zr, sr := RegionOfZone(n.AvailabilityZone), RegionOfARN(c.Source.SecretARN); zr != "" && sr != "" && secretARNPattern.MatchString(c.Source.SecretARN) && zr != sr {
		v.add("network.availabilityZone", n.AvailabilityZone, fmt.Sprintf("a zone of %s, the region of source.secretArn: the zone is in %s, and the subnet, the Glue connection and the secret must be in the stack's one region", sr, zr))
	}
	if !vpcIDPattern.MatchString(n.VPCID) {
		v.add("network.vpcId", n.VPCID, "a VPC id such as vpc-0123456789abcdef0")
	}
	if !subnetIDPattern.MatchString(n.SubnetID) {
		v.add("network.subnetId", n.SubnetID, "a subnet id such as subnet-0123456789abcdef0 (a subnet that can reach the database)")
	}
	if !azPattern.MatchString(n.AvailabilityZone) {
		v.add("network.availabilityZone", n.AvailabilityZone, "the subnet's availability zone, e.g. eu-west-1a")
	}
	if len(n.SecurityGroupIDs) == 0 {
		v.add("network.securityGroupIds", "[]", "at least one security group id for Glue's network interfaces")
	}
	for i, sg := range n.SecurityGroupIDs {
		if !sgIDPattern.MatchString(sg) {
			v.add(fmt.Sprintf("network.securityGroupIds[%d]", i), sg, "a security group id such as sg-0123456789abcdef0")
		}
	}
	for i, rt := range n.RouteTableIDs {
		if !rtbIDPattern.MatchString(rt) {
			v.add(fmt.Sprintf("network.routeTableIds[%d]", i), rt, "a route table id such as rtb-0123456789abcdef0")
		}
	}
	if n.Manage && len(n.RouteTableIDs) == 0 {
		v.add("network.routeTableIds", "[]", "the route table(s) of the subnet when network.manage is true: the S3 gateway endpoint is attached to them")
	}
}

func (c Config) validateImport(v *validator) {
	im := c.Import
	switch im.Mode {
	case ModeSnapshot:
	case ModeIncremental:
		if len(im.BookmarkKeys) == 0 {
			v.add("import.bookmarkKeys", "{}", "in incremental mode, each source table with its monotonic key column(s), e.g. {\"products\": [\"id\"]}")
		}
	default:
		v.add("import.mode", im.Mode, "snapshot (reload every table each run) or incremental (new rows above the highest key already in the lake)")
	}
	for table, cols := range im.BookmarkKeys {
		if len(cols) != 1 {
			v.add("import.bookmarkKeys."+table, fmt.Sprintf("%v", cols), "exactly one monotonic key column (numeric, date or timestamp without time zone)")
		}
		for i, col := range cols {
			if !columnPattern.MatchString(col) {
				v.add(fmt.Sprintf("import.bookmarkKeys.%s[%d]", table, i), col, "a column name of letters, digits and '_'")
			}
		}
	}
	for table, pc := range im.Partitioning {
		if pc.Partitions < 1 || pc.Partitions > 1000 {
			v.add("import.partitioning."+table+".partitions", strconv.Itoa(pc.Partitions), "1 to 1000 ranges (1 reads the table in one stream)")
		}
		if pc.Partitions > 1 && !columnPattern.MatchString(pc.Column) {
			v.add("import.partitioning."+table+".column", pc.Column, "a numeric column name of letters, digits and '_' to split the read on")
		}
	}
	if im.SnapshotRetentionDays < 0 || im.SnapshotRetentionDays > 3650 {
		v.add("import.snapshotRetentionDays", strconv.Itoa(im.SnapshotRetentionDays), "0 to 3650 days of older snapshots kept for time travel")
	}
	if !slices.Contains(workerTypes, im.WorkerType) {
		v.add("import.workerType", im.WorkerType, "one of "+strings.Join(workerTypes, ", "))
	} else if im.ExecutionClass == "FLEX" && !slices.Contains(flexWorkerTypes, im.WorkerType) {
		v.add("import.workerType", im.WorkerType, "G.1X or G.2X while import.executionClass is FLEX (Glue runs Flex jobs only on these); for "+im.WorkerType+" set import.executionClass to STANDARD")
	}
	if max, ok := maxWorkers[im.WorkerType]; ok && (im.NumberOfWorkers < 2 || im.NumberOfWorkers > max) {
		v.add("import.numberOfWorkers", strconv.Itoa(im.NumberOfWorkers), fmt.Sprintf("2 to %d workers of type %s (import.workerType)", max, im.WorkerType))
	}
	if im.ExecutionClass != "FLEX" && im.ExecutionClass != "STANDARD" {
		v.add("import.executionClass", im.ExecutionClass, "FLEX (cheaper, starts when capacity is free) or STANDARD")
	}
	jobOK := im.JobTimeoutMinutes >= 1 && im.JobTimeoutMinutes <= maxJobTimeoutMinutes
	if !jobOK {
		v.add("import.jobTimeoutMinutes", strconv.Itoa(im.JobTimeoutMinutes), fmt.Sprintf("1 to %d minutes (Glue refuses 7 days or more)", maxJobTimeoutMinutes))
	}
	switch {
	case im.WaitTimeoutMinutes < minWaitTimeoutMinutes || im.WaitTimeoutMinutes > maxWaitTimeoutMinutes:
		v.add("import.waitTimeoutMinutes", strconv.Itoa(im.WaitTimeoutMinutes), fmt.Sprintf("%d to %d minutes (the first look at the run is after %d minutes; a run must end before the next daily one)", minWaitTimeoutMinutes, maxWaitTimeoutMinutes, minWaitTimeoutMinutes))
	case jobOK && im.WaitTimeoutMinutes < im.JobTimeoutMinutes:
		v.add("import.waitTimeoutMinutes", strconv.Itoa(im.WaitTimeoutMinutes), fmt.Sprintf("at least import.jobTimeoutMinutes (%d): the pipeline would report a failure while Glue still runs the job (the wait also covers both crawlers)", im.JobTimeoutMinutes))
	}
	if im.RowCountTolerance < 0 || im.RowCountTolerance > 1 {
		v.add("import.rowCountTolerance", strconv.FormatFloat(im.RowCountTolerance, 'g', -1, 64), "a fraction from 0 (counts must match) to 1")
	}
}

func (c Config) validateSchedule(v *validator) {
	if err := ValidateScheduleExpression(c.Schedule.Expression); err != nil {
		v.add("schedule.expression", c.Schedule.Expression, err.Error())
	}
	if c.Schedule.TimeZone == "" || c.Schedule.TimeZone == "Local" {
		v.add("schedule.timeZone", c.Schedule.TimeZone, "an IANA time zone name such as UTC or Asia/Tokyo")
	} else if _, err := time.LoadLocation(c.Schedule.TimeZone); err != nil {
		v.add("schedule.timeZone", c.Schedule.TimeZone, "an IANA time zone name such as UTC or Asia/Tokyo (this one is unknown)")
	}
}

func (c Config) validateAthena(v *validator) {
	if !workgroupPattern.MatchString(c.Athena.WorkgroupName) || c.Athena.WorkgroupName == "primary" {
		v.add("athena.workgroupName", c.Athena.WorkgroupName, "1 to 128 letters, digits, '.', '_' or '-', not \"primary\" (the stack creates the workgroup)")
	}
	// Athena's API reference gives a minimum of 10000000 bytes, the AWS
	// Terraform provider validates 10485760 (10 MiB): the larger one is
	// safe under both readings.
	if c.Athena.BytesScannedCutoffPerQuery < 10_485_760 {
		v.add("athena.bytesScannedCutoffPerQuery", strconv.FormatInt(c.Athena.BytesScannedCutoffPerQuery, 10), "at least 10485760 bytes (10 MiB, Athena's minimum per-query cutoff)")
	}
}

func hasRole(arns []string) bool {
	return slices.ContainsFunc(arns, IsRoleARN)
}

// IsRoleARN says whether arn is a well-formed IAM role ARN.
func IsRoleARN(arn string) bool {
	return iamPrincipalARN.MatchString(arn) && strings.Contains(arn, ":role/")
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, n := range list {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
