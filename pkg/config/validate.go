package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	_ "time/tzdata" // time zones must validate the same on every machine and in Lambda
	"unicode/utf8"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
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

// principalARNs checks that each ARN of list names an IAM user or role:
// Lake Formation grants to those, never to groups. groupFix follows the
// group rule's text; example is an ARN such as the list should hold.
func (v *validator) principalARNs(list string, arns []string, groupFix, example string) {
	for i, arn := range arns {
		path := fmt.Sprintf("%s[%d]", list, i)
		switch {
		case iamGroupARN.MatchString(arn):
			v.add(path, arn, "an IAM user or role ARN: Lake Formation cannot grant permissions to IAM groups"+groupFix)
		case !iamPrincipalARN.MatchString(arn):
			v.add(path, arn, "an IAM user or role ARN such as "+example)
		}
	}
}

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
	c.validatePrincipalsOnce(v)
	if s := c.LakeFormation.AccountSettings; !slices.Contains(stepcontract.AccountSettingsValues, s) {
		v.add("lakeFormation.accountSettings", s, `"import-only" (the default: lakeforge turns on only full table access, AllowFullTableExternalDataAccess, which the import needs), "manage" (also empties the account-wide default permissions and revokes IAM_ALLOWED_PRINCIPALS' CREATE_DATABASE, for the whole account) or "leave" (you own every account-wide setting; full table access must be on)`)
	}
	c.validateSource(v)
	c.validateNetwork(v)
	c.validateImport(v)
	c.validateSchedule(v)
	c.validateAthena(v)
	c.validateGovernance(v)
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
	case strings.Contains(name, ".-") || strings.Contains(name, "-."):
		return "no period next to a hyphen ('.-' or '-.'): each label between periods begins and ends with a letter or digit"
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
		if p.cfg.AdoptGroup && (p.cfg.GroupName == "" || !p.cfg.CreateRole) {
			v.add(base+".adoptGroup", "true", "false unless createRole is true and groupName names the existing group whose members may assume the role")
		}
		v.principalARNs(base+".principalArns", p.cfg.PrincipalARNs,
			"; use a role the group's members may assume (set createRole and groupName)", "arn:aws:iam::123456789012:role/analyst")
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
