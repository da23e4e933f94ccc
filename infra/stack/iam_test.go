package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/lakeforge/lakeforge/internal/iamactions"
)

// authorizedOnBehalfOf are the IAM permissions AWS checks on the caller of
// an action beyond the action itself. They never appear as recorded SDK
// calls, so the test adds them to the recorded ones. Written here from the
// documents, not read from the stack:
//   - RegisterResource and UpdateResource with a RoleArn need iam:PassRole
//     on the role ("The data lake administrator who registers the location
//     must have the iam:PassRole permission on the role": Lake Formation
//     developer guide, "Requirements for roles used to register locations");
//   - AddLFTagsToResource needs glue:GetDatabase on the database (Lake
//     Formation developer guide, "Assigning LF-Tags to Data Catalog
//     resources");
//   - tagging a new security group rule or VPC endpoint in its create call
//     (TagSpecifications) is authorized as ec2:CreateTags (EC2 user guide,
//     "Grant permission to tag resources during creation");
//   - glue:TestConnection takes no role: Glue creates, tags
//     (aws-glue-service-resource) and deletes the test's network interface
//     with the caller's permissions (AWSGlueServiceRole; the Glue connector
//     pages: "If providing Network Options ... ec2:CreateNetworkInterface,
//     ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface");
//   - route53:ListHostedZonesByVPC has Route 53 check ec2:DescribeVpcs on
//     the caller's behalf.
var authorizedOnBehalfOf = map[string][]string{
	"lakeformation:RegisterResource":    {"iam:PassRole"},
	"lakeformation:UpdateResource":      {"iam:PassRole"},
	"lakeformation:AddLFTagsToResource": {"glue:GetDatabase"},
	"ec2:AuthorizeSecurityGroupIngress": {"ec2:CreateTags"},
	"ec2:CreateVpcEndpoint":             {"ec2:CreateTags"},
	"glue:TestConnection":               {"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:CreateTags"},
	"route53:ListHostedZonesByVPC":      {"ec2:DescribeVpcs"},
}

// repairOnlyCalls are the calls of test-connection that only repair mode
// makes (docs/troubleshooting.md, preflight.repair): its role must not allow them, nor
// their tag-on-create, when preflight.repair is off.
var repairOnlyCalls = []string{"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint"}

// TestStepRolesAllowExactlyTheCalledActions compares, for every step Lambda
// of the stack, the IAM actions its handler calls (functions/<name>/testdata/
// iam-actions.txt, the SDK calls its moto tests record) plus the permissions
// AWS checks on behalf of those calls (authorizedOnBehalfOf) with the
// actions of its role's policy in the synthesized template, in both
// directions. The WriteOwnLogs statement every step gets is not compared.
func TestStepRolesAllowExactlyTheCalledActions(t *testing.T) {
	for _, repair := range []bool{false, true} {
		cfg := shippedConfig(t)
		cfg.Preflight.Repair = repair
		st := synth(t, cfg)
		t.Run("repair="+strconv.FormatBool(repair), func(t *testing.T) { checkStepRoles(t, st, repair) })
	}
	// manage-network is deployed only with network.manage.
	cfg := shippedConfig(t)
	cfg.Network.Manage, cfg.Preflight.Repair = true, true
	st := synth(t, cfg)
	t.Run("network.manage", func(t *testing.T) { checkStepRoles(t, st, true) })
}

func checkStepRoles(t *testing.T, st synthesized, repair bool) {
	if len(st.Stack.Lake.Steps()) == 0 {
		t.Fatal("the stack has no step functions")
	}
	policies := st.resources("AWS::IAM::Policy")
	for name, step := range st.Stack.Lake.Steps() {
		t.Run(name, func(t *testing.T) {
			golden, err := iamactions.Read(filepath.Join(repoRoot(t), iamactions.Path(name)))
			if err != nil {
				t.Fatalf("%v: every function keeps the IAM actions its handler calls in %s (generate it with its tests and -update-iam-actions)", err, iamactions.Path(name))
			}
			want := map[string]bool{}
			for _, a := range golden {
				if name == "test-connection" && !repair && slices.Contains(repairOnlyCalls, a) {
					continue
				}
				want[a] = true
				for _, extra := range authorizedOnBehalfOf[a] {
					want[extra] = true
				}
			}
			roleID := st.Stack.GetLogicalId(step.Role().Node().DefaultChild().(awscdk.CfnElement))
			got := map[string]bool{}
			found := false
			for _, p := range policies {
				props := p["Properties"].(map[string]any)
				if !refersTo(props["Roles"], *roleID) {
					continue
				}
				found = true
				doc := props["PolicyDocument"].(map[string]any)
				for _, s := range doc["Statement"].([]any) {
					stmt := s.(map[string]any)
					if stmt["Sid"] == "WriteOwnLogs" {
						continue
					}
					for _, a := range asStrings(stmt["Action"]) {
						got[a] = true
					}
				}
			}
			if !found {
				t.Fatalf("no IAM policy attached to role %s", *roleID)
			}
			if missing, extra := diff(want, got), diff(got, want); len(missing) > 0 || len(extra) > 0 {
				t.Fatalf("role of %s:\n  called but not allowed: %v\n  allowed but never called: %v", name, missing, extra)
			}
		})
	}
}

// TestGoldenFilesBelongToSteps catches golden files of functions the stack
// does not deploy (a renamed function would otherwise keep an unchecked file).
func TestGoldenFilesBelongToSteps(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Network.Manage, cfg.Preflight.Repair = true, true // every optional function deployed
	st := synth(t, cfg)
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "functions", "*", "testdata", "iam-actions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(f)))
		if _, ok := st.Stack.Lake.Steps()[name]; !ok {
			if _, err := os.Stat(filepath.Join(repoRoot(t), "functions", name, "main.go")); err == nil {
				t.Errorf("functions/%s has a golden IAM file but the stack deploys no step %q", name, name)
			}
		}
	}
}

func refersTo(roles any, logicalID string) bool {
	list, _ := roles.([]any)
	for _, r := range list {
		if m, ok := r.(map[string]any); ok && m["Ref"] == logicalID {
			return true
		}
	}
	return false
}

func asStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// diff returns the keys of a that are not in b, sorted.
func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// Defect 10 of issue 8: Athena writes query results as the caller, with
// multipart uploads. The actions are those AmazonAthenaFullAccess grants on
// query results buckets (AWS managed policy reference,
// BaseQueryResultsPermissions), minus creating buckets: the bucket-level
// ones on the results bucket, the object-level ones under its athena/
// prefix.
func TestAnalystMayWriteAthenaResults(t *testing.T) {
	st := synth(t, shippedConfig(t))
	stmts := st.roleStatements(logicalID(st.Stack.Lake.Personas.AnalystRole))
	bucket := logicalID(st.Stack.Lake.Storage.ResultsBucket)
	for _, a := range []string{"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"} {
		got := resourcesFor(stmts, a)
		if len(got) != 1 || got[0] != `{"Fn::GetAtt":["`+bucket+`","Arn"]}` {
			t.Errorf("%s on %v, want the results bucket %s", a, got, bucket)
		}
	}
	for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"} {
		got := resourcesFor(stmts, a)
		if len(got) != 1 || !strings.Contains(got[0], bucket) || !strings.Contains(got[0], "/athena/*") {
			t.Errorf("%s on %v, want the objects under athena/ of %s", a, got, bucket)
		}
	}
}

// trustStatements returns the role's trust policy statements.
func trustStatements(t *testing.T, st synthesized, roleID string) []map[string]any {
	t.Helper()
	list, _ := dig(st.resource(t, roleID), "Properties", "AssumeRolePolicyDocument", "Statement").([]any)
	var out []map[string]any
	for _, s := range list {
		out = append(out, s.(map[string]any))
	}
	return out
}

// Defect 10 of issue 8: the persona roles trusted every principal of the
// account. An IAM group cannot be a trust-policy principal, so the role
// trusts the account only for IAM users (the groups' members, whose group
// policy grants sts:AssumeRole) and the configured principals; the analyst
// role also trusts the verify-query function's role by its ARN.
func TestPersonaRolesTrustOnlyGroupMembersAndConfiguredPrincipals(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Personas.Analysts.PrincipalARNs = []string{"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Analyst_0123456789abcdef"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st := synth(t, cfg)
	users := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":user/*"]]}`
	root := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":iam::",{"Ref":"AWS::AccountId"},":root"]]}`
	verifyRole := `{"Fn::GetAtt":["` + logicalID(st.Stack.Lake.Steps()["verify-query"].Role()) + `","Arn"]}`
	for role, want := range map[string]struct {
		allowed []string
		extra   []string // principals trusted by ARN
	}{
		logicalID(st.Stack.Lake.Personas.AdminRole):   {allowed: []string{users}},
		logicalID(st.Stack.Lake.Personas.AnalystRole): {allowed: []string{users, `"` + cfg.Personas.Analysts.PrincipalARNs[0] + `"`}, extra: []string{verifyRole}},
	} {
		var byARN []string
		accountTrusted := false
		for _, s := range trustStatements(t, st, role) {
			if s["Effect"] != "Allow" || s["Action"] != "sts:AssumeRole" {
				t.Errorf("%s: unexpected trust statement %v", role, s)
				continue
			}
			principal, _ := json.Marshal(dig(s, "Principal", "AWS"))
			if string(principal) != root {
				byARN = append(byARN, string(principal))
				if s["Condition"] != nil {
					t.Errorf("%s: condition on %s", role, principal)
				}
				continue
			}
			accountTrusted = true
			var got []string
			for _, v := range asAnyList(dig(s, "Condition", "ArnLike", "aws:PrincipalArn")) {
				raw, _ := json.Marshal(v)
				got = append(got, string(raw))
			}
			if !slices.Equal(got, want.allowed) {
				t.Errorf("%s trusts the account for aws:PrincipalArn %v, want %v", role, got, want.allowed)
			}
			if keys := mapKeysOf(s["Condition"]); len(keys) != 1 {
				t.Errorf("%s: trust conditions %v, want only ArnLike", role, keys)
			}
		}
		if !accountTrusted {
			t.Errorf("%s: no statement lets the group's members assume it", role)
		}
		if !slices.Equal(byARN, want.extra) {
			t.Errorf("%s trusts by ARN %v, want %v", role, byARN, want.extra)
		}
	}
}

func asAnyList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func mapKeysOf(v any) []string {
	m, _ := v.(map[string]any)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Issue 17 item 1: in the blog's own account the groups dl_admins and
// dl_users exist, and IAM group names are unique per account. With
// adoptGroup the template creates no group; it attaches the assume-role
// statement to the existing group by name (AWS::IAM::Policy, Groups).
func TestAdoptedGroupsGetTheAssumeRolePolicyAndAreNotCreated(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Personas.Admins.AdoptGroup = true
	cfg.Personas.Analysts.AdoptGroup = true
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st := synth(t, cfg)
	if groups := st.resources("AWS::IAM::Group"); len(groups) != 0 {
		t.Fatalf("the template creates %d IAM groups; adopted groups exist already", len(groups))
	}
	for group, role := range map[string]string{
		cfg.Personas.Admins.GroupName:   logicalID(st.Stack.Lake.Personas.AdminRole),
		cfg.Personas.Analysts.GroupName: logicalID(st.Stack.Lake.Personas.AnalystRole),
	} {
		found := false
		for id, p := range st.resources("AWS::IAM::Policy") {
			props := p["Properties"].(map[string]any)
			if !slices.Contains(toStrings(props["Groups"]), group) {
				continue
			}
			found = true
			stmts := parseStatements(props["PolicyDocument"])
			got := resourcesFor(stmts, "sts:AssumeRole")
			want := `{"Fn::GetAtt":["` + role + `","Arn"]}`
			if len(stmts) != 1 || len(got) != 1 || got[0] != want {
				t.Errorf("policy %s on group %s: statements %v, want only sts:AssumeRole on %s", id, group, stmts, want)
			}
		}
		if !found {
			t.Errorf("no AWS::IAM::Policy attaches to the existing group %s", group)
		}
	}
}

// Without adoptGroup the stack still creates both groups, each with the
// assume-role statement (the default for a fresh account).
func TestGroupsAreCreatedByDefault(t *testing.T) {
	st := synth(t, shippedConfig(t))
	var names []string
	for _, g := range st.resources("AWS::IAM::Group") {
		names = append(names, toStrings(g["Properties"].(map[string]any)["GroupName"])...)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"dl_admins", "dl_users"}) {
		t.Fatalf("groups %v, want dl_admins and dl_users", names)
	}
}

// Issue 21: the import job converts the blueprint's Parquet tables, whose
// files lie outside the lake prefix; import.adoptLocations lets its role
// read (only read) those prefixes, and nothing more by default.
func TestWorkflowRoleReadsTheAdoptLocationsOnly(t *testing.T) {
	cfg := shippedConfig(t)
	role := func(st synthesized) []statement {
		return st.roleStatements(logicalID(st.Stack.Lake.ImportWorkflow.Role))
	}
	for _, s := range role(synth(t, cfg)) {
		if s.Sid == "ReadAdoptedParquet" || s.Sid == "ListAdoptedParquet" {
			t.Fatalf("without import.adoptLocations the workflow role has %s", s.raw)
		}
	}
	cfg.Import.AdoptLocations = []string{"s3://blog-lake/kthr01/"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	stmts := role(synth(t, cfg))
	objects := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3:::blog-lake/kthr01/*"]]}`
	bucket := `{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":s3:::blog-lake"]]}`
	if got := resourcesFor(stmts, "s3:GetObject"); !slices.Contains(got, objects) {
		t.Errorf("s3:GetObject on %v, want %s among them", got, objects)
	}
	if got := resourcesFor(stmts, "s3:ListBucket"); !slices.Contains(got, bucket) {
		t.Errorf("s3:ListBucket on %v, want %s among them", got, bucket)
	}
	for _, a := range []string{"s3:PutObject", "s3:DeleteObject"} {
		if slices.ContainsFunc(resourcesFor(stmts, a), func(r string) bool { return strings.Contains(r, "blog-lake") }) {
			t.Errorf("the workflow role may %s in the adopt location", a)
		}
	}
}

// Athena resolves a query without a database context in the `default`
// database and asks Glue for it with the caller's credentials ("is not
// authorized to perform: glue:GetDatabase on resource: ...:database/default"),
// and Lake Formation needs DESCRIBE on it (Athena user guide, "The DESCRIBE
// permission is required on the default database"): the analyst role, which
// VerifyQuery's counts run as, may read that database's definition, and
// only that: none of its tables.
func TestAnalystMayDescribeTheDefaultDatabase(t *testing.T) {
	st := synth(t, shippedConfig(t))
	stmts := st.roleStatements(logicalID(st.Stack.Lake.Personas.AnalystRole))
	found := false
	for _, r := range resourcesFor(stmts, "glue:GetDatabase") {
		if strings.Contains(r, ":database/default") {
			found = true
		}
	}
	if !found {
		t.Errorf("glue:GetDatabase on %v: the analyst role may not read the default database Athena resolves queries in", resourcesFor(stmts, "glue:GetDatabase"))
	}
	for _, a := range []string{"glue:GetTable", "glue:GetTables", "glue:GetPartitions"} {
		for _, r := range resourcesFor(stmts, a) {
			if strings.Contains(r, "/default") {
				t.Errorf("%s on %s: the analyst needs the default database's definition only", a, r)
			}
		}
	}
}
