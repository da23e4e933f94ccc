//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, which jsii marks deprecated (moved to @aws-cdk/cloud-assembly-api); the Go binding offers no other type.

package stack

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// The foundation's resources and their security settings, on the template
// synthesized from the repository's own cdk.json.

func TestLakeBucketIsPrivateEncryptedVersionedAndRetained(t *testing.T) {
	st := synth(t, shippedConfig(t))
	id := logicalID(st.Stack.Lake.Storage.LakeBucket)
	bucket := st.resource(t, id)
	if bucket["DeletionPolicy"] != "Retain" || bucket["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("lake bucket must survive teardown: %v / %v", bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"])
	}
	props := bucket["Properties"].(map[string]any)
	assertBlocksPublicAccess(t, props)
	assertEncrypted(t, props)
	if v := dig(props, "VersioningConfiguration", "Status"); v != "Enabled" {
		t.Errorf("versioning = %v", v)
	}
	if dig(props, "LoggingConfiguration", "DestinationBucketName") == nil {
		t.Error("lake bucket has no server access logging")
	}
	st.assertDeniesPlainHTTP(t, id)
}

func TestAthenaResultsBucketIsPrivateEncryptedAndExpires(t *testing.T) {
	st := synth(t, shippedConfig(t))
	id := logicalID(st.Stack.Lake.Storage.ResultsBucket)
	props := st.resource(t, id)["Properties"].(map[string]any)
	assertBlocksPublicAccess(t, props)
	assertEncrypted(t, props)
	rules := dig(props, "LifecycleConfiguration", "Rules").([]any)
	if len(rules) == 0 || rules[0].(map[string]any)["ExpirationInDays"] == nil {
		t.Errorf("query results never expire: %v", rules)
	}
	st.assertDeniesPlainHTTP(t, id)
	st.assertDeniesPlainHTTP(t, logicalID(st.Stack.Lake.Storage.AccessLogsBucket))
}

func TestAthenaWorkgroupEnforcesResultsEncryptionAndCutoff(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	st.Template.HasResourceProperties(jsii.String("AWS::Athena::WorkGroup"), map[string]any{
		"Name": cfg.Athena.WorkgroupName,
		"WorkGroupConfiguration": map[string]any{
			"EnforceWorkGroupConfiguration": true,
			"BytesScannedCutoffPerQuery":    cfg.Athena.BytesScannedCutoffPerQuery,
			"ResultConfiguration": map[string]any{
				"EncryptionConfiguration": map[string]any{"EncryptionOption": "SSE_S3"},
				"OutputLocation": map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ArrayWith(&[]any{map[string]any{"Ref": logicalID(st.Stack.Lake.Storage.ResultsBucket)}}),
				})},
			},
		},
	})
}

func TestFailureTopicIsEncryptedAndRefusesPlainHTTP(t *testing.T) {
	st := synth(t, shippedConfig(t))
	topicID := logicalID(st.Stack.Lake.Alerts.FailureTopic)
	props := st.resource(t, topicID)["Properties"].(map[string]any)
	if props["KmsMasterKeyId"] == nil {
		t.Error("failure topic is not encrypted")
	}
	found := false
	for _, pol := range st.resources("AWS::SNS::TopicPolicy") {
		doc, _ := json.Marshal(pol)
		if strings.Contains(string(doc), `"aws:SecureTransport":"false"`) && strings.Contains(string(doc), topicID) {
			found = true
		}
	}
	if !found {
		t.Error("no topic policy denies publishing without TLS")
	}
	key := st.resource(t, logicalID(st.Stack.Lake.Storage.Key))["Properties"].(map[string]any)
	if key["EnableKeyRotation"] != true {
		t.Error("KMS key rotation is off")
	}
}

func TestWorkflowRoleReadsSecretAndWritesOnlyTheLakePrefix(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	roleID := logicalID(st.Stack.Lake.ImportWorkflow.Role)
	role := st.resource(t, roleID)["Properties"].(map[string]any)
	if p := dig(role, "AssumeRolePolicyDocument", "Statement").([]any)[0].(map[string]any)["Principal"]; dig(p.(map[string]any), "Service") != "glue.amazonaws.com" {
		t.Errorf("workflow role trusts %v", p)
	}
	stmts := st.roleStatements(roleID)
	if got := resourcesFor(stmts, "secretsmanager:GetSecretValue"); !slices.Equal(got, []string{cfg.Source.SecretARN}) {
		t.Errorf("secret access = %v, want only %s", got, cfg.Source.SecretARN)
	}
	// The security configuration's SSE-KMS for CloudWatch Logs: the role
	// associates the key with Glue's log groups, and the key policy lets
	// the regional CloudWatch Logs principal use it.
	if got := resourcesFor(stmts, "logs:AssociateKmsKey"); len(got) != 1 || !strings.Contains(got[0], "log-group:/aws-glue/*") {
		t.Errorf("logs:AssociateKmsKey on %v, want the /aws-glue/* log groups", got)
	}
	keyPolicy := jsonOf(t, st.resource(t, logicalID(st.Stack.Lake.Storage.Key))["Properties"].(map[string]any)["KeyPolicy"])
	if !strings.Contains(keyPolicy, `"logs.",{"Ref":"AWS::Region"},".amazonaws.com"`) {
		t.Errorf("the key policy does not name logs.<region>.amazonaws.com: %s", keyPolicy)
	}
	for _, r := range resourcesFor(stmts, "s3:PutObject") {
		if !strings.Contains(r, `"/`+cfg.Lake.Prefix+`*"`) {
			t.Errorf("workflow role may write %s, outside the lake prefix", r)
		}
	}
	for _, s := range stmts {
		for _, a := range s.Actions {
			if a == "s3:*" || a == "*" {
				t.Errorf("workflow role has %s", a)
			}
		}
	}
}

// The post gave analysts AmazonS3FullAccess; lakeforge gives them no S3
// access to the lake at all, so every read goes through Lake Formation.
func TestAnalystHasNoS3AccessToTheLake(t *testing.T) {
	st := synth(t, shippedConfig(t))
	roleID := logicalID(st.Stack.Lake.Personas.AnalystRole)
	role := st.resource(t, roleID)["Properties"].(map[string]any)
	if mp, _ := json.Marshal(role["ManagedPolicyArns"]); strings.Contains(string(mp), "S3") {
		t.Fatalf("analyst role has managed S3 policies: %s", mp)
	}
	lakeID := logicalID(st.Stack.Lake.Storage.LakeBucket)
	stmts := st.roleStatements(roleID)
	if len(stmts) == 0 {
		t.Fatal("analyst role has no policy statements")
	}
	for _, s := range stmts {
		for _, a := range s.Actions {
			if strings.HasPrefix(a, "s3:") {
				for _, r := range s.Resources {
					if strings.Contains(r, lakeID) || r == "*" {
						t.Errorf("analyst may %s on %s", a, r)
					}
				}
			}
		}
		if strings.Contains(s.raw, lakeID) {
			t.Errorf("analyst statement mentions the lake bucket: %s", s.raw)
		}
	}
	if got := resourcesFor(stmts, "lakeformation:GetDataAccess"); len(got) != 1 {
		t.Errorf("analyst cannot get data access from Lake Formation: %v", got)
	}
	if got := resourcesFor(stmts, "athena:StartQueryExecution"); len(got) != 1 || !strings.Contains(got[0], "workgroup/lakeforge") {
		t.Errorf("analyst queries outside the lakeforge workgroup: %v", got)
	}
}

func TestPersonaGroupsMayAssumeTheirRoles(t *testing.T) {
	st := synth(t, shippedConfig(t))
	groups := st.resources("AWS::IAM::Group")
	names := map[string]string{}
	for id, g := range groups {
		names[g["Properties"].(map[string]any)["GroupName"].(string)] = id
	}
	for group, role := range map[string]string{"dl_admins": logicalID(st.Stack.Lake.Personas.AdminRole), "dl_users": logicalID(st.Stack.Lake.Personas.AnalystRole)} {
		gid, ok := names[group]
		if !ok {
			t.Errorf("no IAM group %s", group)
			continue
		}
		got := resourcesFor(st.groupStatements(gid), "sts:AssumeRole")
		if len(got) != 1 || !strings.Contains(got[0], role) {
			t.Errorf("group %s may assume %v, want role %s", group, got, role)
		}
	}
}

func TestExistingPrincipalsReplaceTheCreatedRoles(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Personas.Admins.CreateRole, cfg.Personas.Admins.GroupName = false, ""
	cfg.Personas.Admins.PrincipalARNs = []string{"arn:aws:iam::123456789012:role/existing-admin"}
	cfg.Personas.Analysts.CreateRole, cfg.Personas.Analysts.GroupName = false, ""
	cfg.Personas.Analysts.PrincipalARNs = []string{"arn:aws:iam::123456789012:role/existing-analyst"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	st := synth(t, cfg)
	if st.Stack.Lake.Personas.AdminRole != nil || st.Stack.Lake.Personas.AnalystRole != nil {
		t.Fatal("persona roles were created although the config names existing principals")
	}
	if n := len(st.resources("AWS::IAM::Group")); n != 0 {
		t.Errorf("%d IAM groups created", n)
	}
	if got := jsii.Strings(cfg.Personas.Analysts.PrincipalARNs...); *(*got)[0] != *st.Stack.Lake.Personas.AnalystPrincipalARNs()[0] {
		t.Errorf("analyst principals = %v", st.Stack.Lake.Personas.AnalystPrincipalARNs())
	}
}

func TestGlueConnectionUsesTheSecretAndTheConfiguredNetwork(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	st.Template.HasResourceProperties(jsii.String("AWS::Glue::Connection"), map[string]any{
		"ConnectionInput": map[string]any{
			"Name":           cfg.Names().Connection,
			"ConnectionType": "JDBC",
			"ConnectionProperties": map[string]any{
				"JDBC_CONNECTION_URL": "jdbc:postgresql://" + cfg.Source.Host + ":5432/" + cfg.Source.DatabaseName,
				"SECRET_ID":           cfg.Source.SecretARN,
				"JDBC_ENFORCE_SSL":    "true",
			},
			"PhysicalConnectionRequirements": map[string]any{
				"SubnetId":            cfg.Network.SubnetID,
				"AvailabilityZone":    cfg.Network.AvailabilityZone,
				"SecurityGroupIdList": cfg.Network.SecurityGroupIDs,
			},
		},
	})
	raw, _ := json.Marshal(st.resources("AWS::Glue::Connection"))
	for _, k := range []string{"PASSWORD", "USERNAME"} {
		if strings.Contains(string(raw), k) {
			t.Errorf("connection carries %s in the template", k)
		}
	}
}

func TestNetworkFixesOnlyWhenTheStackOwnsTheNetwork(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	st.Template.ResourceCountIs(jsii.String("AWS::EC2::SecurityGroupIngress"), jsii.Number(0))
	st.Template.ResourceCountIs(jsii.String("AWS::EC2::VPCEndpoint"), jsii.Number(0))
	st.Template.ResourceCountIs(jsii.String("Custom::LakeforgeNetwork"), jsii.Number(0))
	if _, ok := st.Stack.Lake.Steps()[ManageNetworkFunction]; ok {
		t.Error("without network.manage the stack deploys manage-network")
	}
}

// The functions a configuration does not deploy: manage-network without
// network.manage, first-run without schedule.runAtDeploy.
func undeployedFunctions(cfg config.Config) []string {
	var out []string
	if !cfg.Network.Manage {
		out = append(out, ManageNetworkFunction)
	}
	if !cfg.Schedule.RunAtDeploy {
		out = append(out, FirstRunFunction)
	}
	return out
}

// Every functions/<name> is deployed as a step Lambda with the shape the
// build produces: arm64, provided.al2023, JSON logs to a log group with the
// configured retention, and a role of its own.
func TestEveryFunctionIsAStepLambdaWithItsOwnRole(t *testing.T) {
	cfg := shippedConfig(t)
	st := synth(t, cfg)
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var folders, deployed []string
	for _, e := range entries {
		if e.IsDir() && !slices.Contains(undeployedFunctions(cfg), e.Name()) {
			folders = append(folders, e.Name())
		}
	}
	for name := range st.Stack.Lake.Steps() {
		deployed = append(deployed, name)
	}
	sort.Strings(folders)
	sort.Strings(deployed)
	if len(folders) == 0 || !slices.Equal(folders, deployed) {
		t.Fatalf("functions/ has %v, the stack deploys %v", folders, deployed)
	}
	roles := map[string]string{}
	for name, step := range st.Stack.Lake.Steps() {
		fnID := logicalID(step.Function())
		props := st.resource(t, fnID)["Properties"].(map[string]any)
		if props["Runtime"] != "provided.al2023" || props["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v handler %v", name, props["Runtime"], props["Handler"])
		}
		if archs, _ := json.Marshal(props["Architectures"]); string(archs) != `["arm64"]` {
			t.Errorf("%s: architectures %s", name, archs)
		}
		if dig(props, "LoggingConfig", "LogFormat") != "JSON" {
			t.Errorf("%s: log format %v", name, dig(props, "LoggingConfig", "LogFormat"))
		}
		roleID := logicalID(step.Role())
		if other, dup := roles[roleID]; dup {
			t.Errorf("%s and %s share role %s", name, other, roleID)
		}
		roles[roleID] = name
		role, _ := json.Marshal(props["Role"])
		if !strings.Contains(string(role), roleID) {
			t.Errorf("%s runs as %s, not its own role %s", name, role, roleID)
		}
	}
	for id, lg := range st.resources("AWS::Logs::LogGroup") {
		if r := lg["Properties"].(map[string]any)["RetentionInDays"]; r != float64(cfg.LogRetentionDays) {
			t.Errorf("log group %s keeps logs %v days, want %d", id, r, cfg.LogRetentionDays)
		}
	}
}

// Zero AWS Solutions findings without a written reason: every suppression in
// the stack carries one, and anything new fails here.
func TestNoUnsuppressedNagFindings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		manage bool
		adopt  bool
	}{{"shipped config", false, false}, {"managed network", true, false}, {"adopting the manual build", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := shippedConfig(t)
			if tc.manage {
				cfg.Network.Manage = true
			}
			if tc.adopt {
				// The groups exist and the blueprint's Parquet files are read (issues 17, 21).
				cfg.Personas.Admins.AdoptGroup, cfg.Personas.Analysts.AdoptGroup = true, true
				cfg.Import.AdoptLocations = []string{"s3://blog-lake/kthr01/"}
			}
			st := synth(t, cfg)
			ann := assertions.Annotations_FromStack(st.Stack.Stack)
			msg := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			findings := map[string]*[]*cxapi.SynthesisMessage{
				"error":   ann.FindError(jsii.String("*"), msg),
				"warning": ann.FindWarning(jsii.String("*"), msg),
			}
			for level, found := range findings {
				for _, f := range *found {
					raw, _ := json.Marshal(f)
					t.Errorf("unsuppressed cdk-nag %s: %s", level, raw)
				}
			}
			suppressions := 0
			for _, r := range st.JSON["Resources"].(map[string]any) {
				for _, s := range nagSuppressions(r.(map[string]any)) {
					suppressions++
					if len(strings.TrimSpace(s["reason"].(string))) < 20 {
						t.Errorf("suppression %v has no real reason", s)
					}
				}
			}
			if suppressions == 0 {
				t.Error("no suppressions found: the check did not read the template")
			}
		})
	}
}

// cfnLintArgs are the cfn-lint arguments `make lint` uses too. W3005 (a
// DependsOn beside a GetAtt of the same resource) is ignored: the CDK adds
// that DependsOn to every Lambda function and role policy; it is redundant
// and harmless, and not ours to remove.
func cfnLintArgs(template string) []string {
	return []string{"--regions", "us-east-1", "ap-northeast-1", "eu-west-1", "--ignore-checks", "W3005", "--", template}
}

// cfn-lint, from this machine image's Python, on the synthesized template.
func TestCfnLintIsClean(t *testing.T) {
	st := synth(t, shippedConfig(t))
	raw, err := json.MarshalIndent(st.JSON, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lakeforge.template.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cfn-lint", cfnLintArgs(path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("cfn-lint: %v\n%s", err, out)
	}
}

// The outputs the operations page (docs/operations.md) refers to.
func TestOperatorOutputs(t *testing.T) {
	st := synth(t, shippedConfig(t))
	for _, name := range []string{"StateMachineArn", "ImportWorkflowName", "FailureTopicArn", "LakeBucketName", "AthenaWorkgroup", "GlueConnectionName", "AnalystRoleArn", "AdminRoleArn"} {
		st.Template.HasOutput(jsii.String(name), map[string]any{})
	}
	// The operations page's table of stack outputs lists exactly the
	// outputs the template has (the shipped configuration creates both
	// persona roles, so every output is there).
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "| output | what it is for |")
	if start < 0 {
		t.Fatal("docs/operations.md has no table of stack outputs (| output | what it is for |)")
	}
	var documented []string
	for _, line := range strings.Split(text[start:], "\n")[2:] {
		if !strings.HasPrefix(line, "| `") {
			break
		}
		documented = append(documented, strings.SplitN(strings.TrimPrefix(line, "| `"), "`", 2)[0])
	}
	var deployed []string
	for name := range st.JSON["Outputs"].(map[string]any) {
		deployed = append(deployed, name)
	}
	slices.Sort(documented)
	slices.Sort(deployed)
	if !slices.Equal(documented, deployed) {
		t.Errorf("docs/operations.md's stack outputs %v, the template's %v", documented, deployed)
	}

	outputs, _ := json.Marshal(st.JSON["Outputs"].(map[string]any)["StateMachineArn"])
	if !strings.Contains(string(outputs), logicalID(st.Stack.Lake.Pipeline.StateMachine)) {
		t.Errorf("StateMachineArn output does not reference the state machine: %s", outputs)
	}
}
