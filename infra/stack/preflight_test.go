//lint:file-ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage, which jsii marks deprecated (moved to @aws-cdk/cloud-assembly-api); the Go binding offers no other type.

package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/internal/iamactions"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// preflightPolicyActions returns the actions of the test-connection role's
// inline policy (minus writing its own logs) and the statements by Sid.
func preflightPolicyActions(t *testing.T, s synthesized) ([]string, map[string]map[string]any) {
	t.Helper()
	step, ok := s.Stack.Lake.Steps()[PreflightFunction]
	if !ok {
		t.Fatalf("step %s not registered", PreflightFunction)
	}
	role := *s.Stack.GetLogicalId(step.Role().Node().DefaultChild().(awscdk.CfnElement))
	var actions []string
	bySid := map[string]map[string]any{}
	for _, p := range s.resources("AWS::IAM::Policy") {
		props := p["Properties"].(map[string]any)
		if !refersTo(props["Roles"], role) {
			continue
		}
		for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			stm := st.(map[string]any)
			sid, _ := stm["Sid"].(string)
			bySid[sid] = stm
			if sid != "WriteOwnLogs" {
				actions = append(actions, asStrings(stm["Action"])...)
			}
		}
	}
	if len(bySid) == 0 {
		t.Fatalf("no policy attached to role %s", role)
	}
	sort.Strings(actions)
	return slices.Compact(actions), bySid
}

// The role allows exactly what the handler calls (the golden file), in
// both directions. With repair off the mutating repair actions are left
// out; with repair on, ec2:CreateTags is added, because tagging on creation
// (TagSpecifications) is authorized as CreateTags though no CreateTags call
// is made.
func TestPreflightRoleMatchesGolden(t *testing.T) {
	golden, err := iamactions.Read(filepath.Join(repoRoot(t), iamactions.Path(PreflightFunction)))
	if err != nil {
		t.Fatal(err)
	}
	for _, repair := range []bool{false, true} {
		t.Run(fmt.Sprintf("repair=%t", repair), func(t *testing.T) {
			cfg := shippedConfig(t)
			cfg.Preflight.Repair = repair
			s := synth(t, cfg)
			got, _ := preflightPolicyActions(t, s)
			var want []string
			for _, a := range golden {
				if repair || !slices.Contains(PreflightRepairActions, a) {
					want = append(want, a)
				}
			}
			// glue:TestConnection places its network interface as the
			// caller (docs/aws-behaviour.md); CreateTags also covers repair's
			// tag-on-create.
			want = append(want, glueTestConnectionCallerActions...)
			// route53:ListHostedZonesByVPC has Route 53 check
			// ec2:DescribeVpcs on the caller's behalf.
			want = append(want, "ec2:DescribeVpcs")
			if cfg.Source.SecretKMSKeyARN != "" {
				t.Fatal("the shipped config sets source.secretKmsKeyArn; TestSecretKMSKeyDecrypt covers that case")
			}
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Fatalf("role actions %v\nwant (golden %s) %v", got, iamactions.Path(PreflightFunction), want)
			}
		})
	}
}

// glueTestConnectionCallerActions are the EC2 actions Glue needs of the
// caller of glue:TestConnection, which takes no role: the Glue connector
// pages ("If providing Network Options ... ec2:CreateNetworkInterface,
// ec2:DescribeNetworkInterfaces, ec2:DeleteNetworkInterface") and
// AWSGlueServiceRole's tagging of aws-glue-service-resource.
var glueTestConnectionCallerActions = []string{"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:CreateTags"}

// TestConnection's role may place, tag and delete the test's network
// interface only in the connection's subnet, with its security groups, and
// tag it only with Glue's key; Describe has no resource-level permissions.
// With repair off nothing else of EC2 may change.
func TestTestConnectionCallerMayPlaceTheNetworkInterface(t *testing.T) {
	cfg := shippedConfig(t)
	s := synth(t, cfg)
	actions, st := preflightPolicyActions(t, s)
	for _, a := range glueTestConnectionCallerActions {
		if !slices.Contains(actions, a) {
			t.Errorf("the test-connection role lacks %s: glue:TestConnection would fail to place its network interface", a)
		}
	}
	subnet := "subnet/" + cfg.Network.SubnetID
	var create, del, tag, describe []map[string]any
	for _, stm := range st {
		acts := asStrings(stm["Action"])
		switch {
		case slices.Contains(acts, "ec2:CreateNetworkInterface"):
			create = append(create, stm)
		case slices.Contains(acts, "ec2:CreateTags"):
			tag = append(tag, stm)
		case slices.Contains(acts, "ec2:DescribeNetworkInterfaces"):
			describe = append(describe, stm)
		}
		if slices.Contains(acts, "ec2:DeleteNetworkInterface") {
			del = append(del, stm)
		}
	}
	for _, stm := range create {
		body := fmt.Sprint(stm)
		switch {
		case strings.Contains(body, "network-interface/*"):
			if !strings.Contains(body, "ArnEquals") || !strings.Contains(body, "ec2:Subnet") || !strings.Contains(body, subnet) {
				t.Errorf("CreateNetworkInterface on any interface without the connection's subnet condition: %s", body)
			}
		default:
			if !strings.Contains(body, subnet) || !strings.Contains(body, "security-group/"+cfg.Network.SecurityGroupIDs[0]) || strings.Contains(body, "subnet/*") || strings.Contains(body, "security-group/*") {
				t.Errorf("CreateNetworkInterface beyond the connection's subnet and groups: %s", body)
			}
		}
	}
	if len(create) != 2 {
		t.Errorf("%d statements allow CreateNetworkInterface, want 2 (the subnet and groups; the interface in that subnet)", len(create))
	}
	for _, stm := range del {
		if body := fmt.Sprint(stm); !strings.Contains(body, "network-interface/*") || !strings.Contains(body, "ec2:Subnet") || !strings.Contains(body, subnet) {
			t.Errorf("DeleteNetworkInterface beyond the connection's subnet: %s", body)
		}
	}
	if len(tag) != 1 || !strings.Contains(fmt.Sprint(tag[0]), "aws-glue-service-resource") || !strings.Contains(fmt.Sprint(tag[0]), "ForAllValues:StringEquals") || !strings.Contains(fmt.Sprint(tag[0]), subnet) {
		t.Errorf("CreateTags (repair off) = %v, want one statement for Glue's aws-glue-service-resource key in the connection's subnet", tag)
	}
	if len(describe) != 1 || fmt.Sprint(describe[0]["Resource"]) != "*" {
		t.Errorf("DescribeNetworkInterfaces = %v, want Resource * (no resource-level permissions)", describe)
	}
}

func TestPreflightRoleScoping(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Preflight.Repair = true
	s := synth(t, cfg)
	_, st := preflightPolicyActions(t, s)

	if r := st["ReadSourceSecret"]["Resource"]; r != cfg.Source.SecretARN {
		t.Errorf("GetSecretValue resource = %v, want only %s", r, cfg.Source.SecretARN)
	}
	if r := st["DescribeNetwork"]["Resource"]; r != "*" {
		t.Errorf("Describe* resource = %v, want * (EC2 Describe has no resource-level permissions)", r)
	}
	body := func(sid string) string { return fmt.Sprint(st[sid]) }
	for sid, parts := range map[string][]string{
		"RepairSelfReferencingRuleOnConnectionGroups": {"security-group/" + cfg.Network.SecurityGroupIDs[0]},
		"RepairSelfReferencingRuleTagged":             {"security-group-rule/*", "aws:RequestTag/lakeforge:created-by", cfg.StackName},
		"RepairVpcEndpointsTagged": {"vpc-endpoint/*", "ec2:VpceServiceName", "aws:RequestTag/lakeforge:created-by",
			".s3", ".glue", ".secretsmanager", ".sts", ".lakeformation"},
		"RepairVpcEndpointsInConnectionVpc":          {"vpc/" + cfg.Network.VPCID},
		"RepairInterfaceEndpointsInConnectionSubnet": {"subnet/" + cfg.Network.SubnetID, "security-group/" + cfg.Network.SecurityGroupIDs[0]},
		"RepairS3GatewayEndpointRouteTables":         {"route-table/*", "ec2:Vpc", "vpc/" + cfg.Network.VPCID, "ec2:ModifyVpcEndpoint"},
		"RepairAddRouteTableToS3GatewayEndpoint":     {"ec2:ModifyVpcEndpoint", "vpc-endpoint/*", "ec2:VpceServiceName", ".s3"},
		"TagRepairsOnCreation":                       {"ec2:CreateAction", "AuthorizeSecurityGroupIngress", "CreateVpcEndpoint"},
		"TestGlueConnection":                         {"connection/" + cfg.Names().Connection},
	} {
		if st[sid] == nil {
			t.Errorf("statement %s missing", sid)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(body(sid), p) {
				t.Errorf("statement %s lacks %q: %s", sid, p, body(sid))
			}
		}
	}
}

func TestPreflightFunctionEnvironment(t *testing.T) {
	cfg := shippedConfig(t)
	s := synth(t, cfg)
	var env map[string]any
	for id, f := range s.resources("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "StepTestConnection") {
			env = f["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
		}
	}
	want := map[string]any{
		"LAKEFORGE_CONNECTION_NAME":   cfg.Names().Connection,
		"LAKEFORGE_STACK_NAME":        cfg.StackName,
		"LAKEFORGE_REQUIRED_FREE_IPS": fmt.Sprint(cfg.Import.NumberOfWorkers + 1),
		"LAKEFORGE_REPAIR":            "false",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, env[k], v, env)
		}
	}
	if _, ok := s.Stack.Lake.Steps()[PreflightFunction]; !ok {
		t.Errorf("step %s not registered", PreflightFunction)
	}
}

// With repair on, the extra statements carry explained suppressions only.
func TestPreflightRepairRoleHasNoUnsuppressedNagFindings(t *testing.T) {
	cfg := shippedConfig(t)
	cfg.Preflight.Repair = true
	st := synth(t, cfg)
	ann := assertions.Annotations_FromStack(st.Stack.Stack)
	msg := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, found := range []*[]*cxapi.SynthesisMessage{ann.FindError(jsii.String("*"), msg), ann.FindWarning(jsii.String("*"), msg)} {
		for _, f := range *found {
			if strings.Contains(*f.Id, "StepTestConnection") {
				t.Errorf("unsuppressed cdk-nag finding on %s: %v", *f.Id, f.Entry.Data)
			}
		}
	}
}

// With source.secretKmsKeyArn, both roles that read the secret (the import
// job's workflow role and the test-connection role) may decrypt with that
// key, and only through Secrets Manager; without it, no role gets
// kms:Decrypt on a key outside the stack.
func TestSecretKMSKeyDecrypt(t *testing.T) {
	const key = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	cfg := shippedConfig(t)
	cfg.Source.SecretKMSKeyARN = key
	s := synth(t, cfg)
	roles := map[string]string{
		"workflow":        *s.Stack.GetLogicalId(s.Stack.Lake.ImportWorkflow.Role.Node().DefaultChild().(awscdk.CfnElement)),
		"test-connection": *s.Stack.GetLogicalId(s.Stack.Lake.Steps()[PreflightFunction].Role().Node().DefaultChild().(awscdk.CfnElement)),
	}
	for name, role := range roles {
		found := false
		for _, p := range s.resources("AWS::IAM::Policy") {
			props := p["Properties"].(map[string]any)
			if !refersTo(props["Roles"], role) {
				continue
			}
			for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				stm := st.(map[string]any)
				if !slices.Contains(asStrings(stm["Action"]), "kms:Decrypt") || stm["Resource"] != key {
					continue
				}
				found = true
				if c := fmt.Sprint(stm["Condition"]); !strings.Contains(c, "kms:ViaService") || !strings.Contains(c, "secretsmanager.") {
					t.Errorf("%s role: kms:Decrypt on %s without the kms:ViaService secretsmanager condition: %s", name, key, c)
				}
			}
		}
		if !found {
			t.Errorf("%s role has no kms:Decrypt on %s", name, key)
		}
	}
	var env map[string]any
	for id, f := range s.resources("AWS::Lambda::Function") {
		if strings.HasPrefix(id, "StepTestConnection") {
			env = f["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
		}
	}
	if env["LAKEFORGE_SECRET_KMS_KEY_ARN"] != key {
		t.Errorf("test-connection LAKEFORGE_SECRET_KMS_KEY_ARN = %v, want %s", env["LAKEFORGE_SECRET_KMS_KEY_ARN"], key)
	}

	plain := synth(t, shippedConfig(t))
	for id, p := range plain.resources("AWS::IAM::Policy") {
		for _, st := range p["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if stm := st.(map[string]any); stm["Sid"] == "DecryptSourceSecret" {
				t.Errorf("policy %s grants kms:Decrypt on a secret key without source.secretKmsKeyArn", id)
			}
		}
	}
}

// network.manage leaves the rule and the endpoints to its custom resource,
// which creates only what the preflight checks find missing (the manual
// build's rule, an S3 gateway endpoint, a private-DNS endpoint of a served
// domain are refused by EC2 when created again): the template holds no
// AWS::EC2::SecurityGroupIngress and no AWS::EC2::VPCEndpoint, but the
// resource, served by manage-network with the connection's subnet and
// groups, whose role may create the endpoints of every API the job calls
// (S3, Glue, Secrets Manager, STS, Lake Formation, KMS) and remove only
// its own. The template passes cfn-lint.
func TestManagedNetworkCreatesTheJobsEndpoints(t *testing.T) {
	cfg := managedNetworkConfig(t)
	s := synth(t, cfg)
	raw, err := json.MarshalIndent(s.JSON, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "lakeforge.template.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cfn-lint", cfnLintArgs(path)...).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint on the managed-network, repair and KMS template: %v\n%s", err, out)
	}
	for _, typ := range []string{"AWS::EC2::SecurityGroupIngress", "AWS::EC2::VPCEndpoint"} {
		if n := len(s.resources(typ)); n != 0 {
			t.Errorf("%d %s in the template: CloudFormation would create them whether they exist or not", n, typ)
		}
	}
	res := s.resources("Custom::LakeforgeNetwork")
	if len(res) != 1 {
		t.Fatalf("%d Custom::LakeforgeNetwork resources, want 1", len(res))
	}
	fn := s.Stack.Lake.Steps()[ManageNetworkFunction]
	for _, r := range res {
		props := r["Properties"].(map[string]any)
		if !strings.Contains(jsonOf(t, props["ServiceToken"]), logicalID(fn.Function())) ||
			props["SubnetId"] != cfg.Network.SubnetID || fmt.Sprint(props["SecurityGroupIds"]) != fmt.Sprint(cfg.Network.SecurityGroupIDs) || props["ServiceTimeout"] == nil {
			t.Errorf("network resource %v", props)
		}
	}
	stmts := s.roleStatements(logicalID(fn.Role()))
	var create string
	for _, st := range stmts {
		if slices.Contains(st.Actions, "ec2:CreateVpcEndpoint") {
			create += st.raw
		}
		if slices.Contains(st.Actions, "ec2:DeleteVpcEndpoints") && (!strings.Contains(st.raw, "aws:ResourceTag/lakeforge:created-by") || !strings.Contains(st.raw, "aws:ResourceTag/lakeforge:managed-by")) {
			t.Errorf("DeleteVpcEndpoints not limited to network.manage's own endpoints: %s", st.raw)
		}
	}
	for _, svc := range []string{"s3", "glue", "secretsmanager", "sts", "lakeformation", "kms"} {
		if !strings.Contains(create, "."+svc+`"`) && !strings.Contains(create, "."+svc+`]`) {
			t.Errorf("manage-network may not create the %s endpoint: %s", svc, create)
		}
	}
}

// managedNetworkConfig is the shipped configuration with everything the
// network area adds to the template at once (network.manage, repair mode,
// a customer managed key on the secret), for cfn-lint and the scans.
func managedNetworkConfig(t testing.TB) config.Config {
	cfg := shippedConfig(t)
	cfg.Network.Manage = true

	cfg.Preflight.Repair = true
	cfg.Source.SecretKMSKeyARN = "arn:aws:kms:ap-northeast-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	return cfg
}
