package cli

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/aws-sdk-go-v2/service/scheduler"
	schedtypes "github.com/aws/aws-sdk-go-v2/service/scheduler/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lakeforge/lakeforge/pkg/preflight"
)

// account is a healthy deployment on moto: what a successful run leaves
// (DESIGN.md, "The daily pipeline"): admins, LF-tags, the tagged database,
// the tag grants, the registered location, an enabled schedule, and a
// network with the self-referencing rule and the S3 gateway endpoint.
type account struct {
	*fixture
	lf       *lf.Client
	ec2      *ec2.Client
	endpoint string
	sg       string
	listed   *unfilteredLF
}

// unfilteredLF sends ListPermissions without its filters: moto rejects
// the LF-tag policy Resource that Lake Formation accepts ("Resource must
// have either the catalog, table or database field populated"; see
// docs/aws-behaviour.md). It keeps the requests doctor sent, so the test
// checks them; doctor matches principal and expression in code either way.
type unfilteredLF struct {
	LakeFormationAPI
	mu   sync.Mutex
	sent []*lf.ListPermissionsInput
}

func (u *unfilteredLF) ListPermissions(ctx context.Context, in *lf.ListPermissionsInput, o ...func(*lf.Options)) (*lf.ListPermissionsOutput, error) {
	u.mu.Lock()
	u.sent = append(u.sent, in)
	u.mu.Unlock()
	return u.LakeFormationAPI.ListPermissions(ctx, &lf.ListPermissionsInput{NextToken: in.NextToken}, o...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newAccount(t *testing.T, deployed bool) *account {
	f := newFixture(t, nil)
	cfg := f.moto.Config()
	a := &account{fixture: f, lf: lf.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg), listed: &unfilteredLF{}}
	f.wrap = func(c *Clients) {
		a.listed.LakeFormationAPI = c.LF
		c.LF = a.listed
	}
	ctx := f.ctx
	if deployed {
		f.deployStack()
		im := iam.NewFromConfig(cfg)
		trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"glue.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		for _, r := range []string{"lakeforge-workflow", "lakeforge-analyst", "lakeforge-admin"} {
			_, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(r), AssumeRolePolicyDocument: aws.String(trust)})
			must(t, err)
		}
		_, err := a.lf.PutDataLakeSettings(ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &lftypes.DataLakeSettings{
			DataLakeAdmins: []lftypes.DataLakePrincipal{{DataLakePrincipalIdentifier: aws.String(testAdminRole)}}}})
		must(t, err)
	}
	for k, v := range map[string][]string{"maintenance": {"crawler", "manual"}, "source": {"product"}} {
		_, err := a.lf.CreateLFTag(ctx, &lf.CreateLFTagInput{TagKey: aws.String(k), TagValues: v})
		must(t, err)
	}
	_, err := glue.NewFromConfig(cfg).CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{
		Name: aws.String("kthr01"), LocationUri: aws.String("s3://" + testBucket + "/lake/")}})
	must(t, err)

	// The network and the secret the connection uses.
	vpc, err := a.ec2.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.30.0.0/16")})
	must(t, err)
	vpcID := aws.ToString(vpc.Vpc.VpcId)
	_, err = a.ec2.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(vpcID), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}})
	must(t, err)
	sub, err := a.ec2.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(vpcID), CidrBlock: aws.String("10.30.1.0/24"), AvailabilityZone: aws.String("us-east-1a")})
	must(t, err)
	rt, err := a.ec2.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(vpcID)})
	must(t, err)
	_, err = a.ec2.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sub.Subnet.SubnetId})
	must(t, err)
	sg, err := a.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("glue"), Description: aws.String("glue"), VpcId: aws.String(vpcID)})
	must(t, err)
	a.sg = aws.ToString(sg.GroupId)
	tags := []ec2types.Tag{{Key: aws.String(preflight.CreatedByTag), Value: aws.String(testStack)}}
	_, err = a.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535),
			UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: sg.GroupId}}}},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSecurityGroupRule, Tags: tags}}})
	must(t, err)
	ep, err := a.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpcID), ServiceName: aws.String("com.amazonaws.us-east-1.s3"),
		VpcEndpointType: ec2types.VpcEndpointTypeGateway, RouteTableIds: []string{aws.ToString(rt.RouteTable.RouteTableId)},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpoint, Tags: tags}}})
	must(t, err)
	a.endpoint = aws.ToString(ep.VpcEndpoint.VpcEndpointId)
	// No NAT route: the interface endpoints the import job calls
	// (preflight's aws-endpoints check), made by the network's owner.
	for _, svc := range []string{"glue", "secretsmanager", "sts", "lakeformation", "kms"} {
		_, err = a.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(vpcID), ServiceName: aws.String("com.amazonaws.us-east-1." + svc),
			VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{aws.ToString(sub.Subnet.SubnetId)},
			SecurityGroupIds: []string{a.sg}, PrivateDnsEnabled: aws.Bool(true)})
		must(t, err)
	}
	sec, err := secretsmanager.NewFromConfig(cfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("lakeforge/source"),
		SecretString: aws.String(`{"username":"importer","password":"testing"}`)})
	must(t, err)
	f.writeConfig(func(c map[string]any) {
		c["network"] = map[string]any{"vpcId": vpcID, "subnetId": aws.ToString(sub.Subnet.SubnetId), "availabilityZone": "us-east-1a",
			"securityGroupIds": []string{a.sg}}
		src := c["source"].(map[string]any)
		src["secretArn"] = aws.ToString(sec.ARN)
	})
	if !deployed {
		return a
	}

	dbRes := &lftypes.Resource{Database: &lftypes.DatabaseResource{Name: aws.String("kthr01")}}
	_, err = a.lf.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{Resource: dbRes, LFTags: []lftypes.LFTagPair{
		{TagKey: aws.String("maintenance"), TagValues: []string{"crawler"}}, {TagKey: aws.String("source"), TagValues: []string{"product"}}}})
	must(t, err)
	for _, g := range []struct {
		principal, key, value string
		rt                    lftypes.ResourceType
		perms                 []lftypes.Permission
	}{
		{testWorkflowRole, "maintenance", "crawler", lftypes.ResourceTypeDatabase, []lftypes.Permission{lftypes.PermissionAll}},
		{testWorkflowRole, "maintenance", "crawler", lftypes.ResourceTypeTable, []lftypes.Permission{lftypes.PermissionAll}},
		{testAnalystRole, "source", "product", lftypes.ResourceTypeDatabase, []lftypes.Permission{lftypes.PermissionDescribe}},
		{testAnalystRole, "source", "product", lftypes.ResourceTypeTable, []lftypes.Permission{lftypes.PermissionSelect, lftypes.PermissionDescribe}},
	} {
		_, err := a.lf.GrantPermissions(ctx, &lf.GrantPermissionsInput{
			Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(g.principal)},
			Resource: &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: g.rt,
				Expression: []lftypes.LFTag{{TagKey: aws.String(g.key), TagValues: []string{g.value}}}}},
			Permissions: g.perms})
		must(t, err)
	}
	_, err = a.lf.RegisterResource(ctx, &lf.RegisterResourceInput{ResourceArn: aws.String("arn:aws:s3:::" + testBucket + "/lake"), UseServiceLinkedRole: aws.Bool(true)})
	must(t, err)
	_, err = scheduler.NewFromConfig(cfg).CreateSchedule(ctx, a.scheduleInput(schedtypes.ScheduleStateEnabled))
	must(t, err)
	return a
}

func (a *account) scheduleInput(state schedtypes.ScheduleState) *scheduler.CreateScheduleInput {
	return &scheduler.CreateScheduleInput{Name: aws.String("lakeforge-daily"), ScheduleExpression: aws.String("cron(45 9 * * ? *)"),
		ScheduleExpressionTimezone: aws.String("UTC"), State: state,
		FlexibleTimeWindow: &schedtypes.FlexibleTimeWindow{Mode: schedtypes.FlexibleTimeWindowModeOff},
		Target:             &schedtypes.Target{Arn: aws.String(testStateMachine), RoleArn: aws.String("arn:aws:iam::123456789012:role/lakeforge-scheduler")}}
}

func (a *account) doctor(t *testing.T) (DoctorReport, int) {
	t.Helper()
	out, errOut, code := a.cli("doctor", "--output", "json")
	var rep DoctorReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, errOut)
	}
	return rep, code
}

// failing returns the findings that failed, by check.
func failing(rep DoctorReport) map[string]Finding {
	out := map[string]Finding{}
	for _, f := range rep.Findings {
		if !f.OK {
			out[f.Check] = f
		}
	}
	return out
}

func TestDoctorHealthyAccount(t *testing.T) {
	a := newAccount(t, true)
	rep, code := a.doctor(t)
	if code != ExitOK || !rep.Healthy || len(failing(rep)) > 0 {
		t.Fatalf("exit %d, failing %+v", code, failing(rep))
	}
	// The request is GrantTagPermissions': the principal and the grant's
	// LF-tag policy (Lake Formation requires a Resource with a Principal).
	if len(a.listed.sent) != 4 {
		t.Fatalf("%d ListPermissions requests, want one per grant (4)", len(a.listed.sent))
	}
	first := a.listed.sent[0]
	if aws.ToString(first.Principal.DataLakePrincipalIdentifier) != testWorkflowRole || first.Resource == nil || first.Resource.LFTagPolicy == nil ||
		first.Resource.LFTagPolicy.ResourceType != lftypes.ResourceTypeDatabase || aws.ToString(first.Resource.LFTagPolicy.Expression[0].TagKey) != "maintenance" {
		t.Errorf("first ListPermissions request %+v", first)
	}
	checks := map[string]bool{}
	for _, f := range rep.Findings {
		checks[f.Check] = true
	}
	for _, c := range []string{CheckStack, CheckAdmins, CheckLFTags, CheckDatabaseTags, CheckGrants, CheckLocation, CheckSchedule, CheckBlueprint, "network:s3-route", "network:security-groups"} {
		if !checks[c] {
			t.Errorf("doctor did not check %s: %+v", c, rep.Findings)
		}
	}
}

// Each drift the issue names is found, reported with its fix, and makes
// doctor exit non-zero; nothing else is reported.
func TestDoctorFindsEachDrift(t *testing.T) {
	for _, tc := range []struct {
		name    string
		break_  func(t *testing.T, a *account)
		check   string
		mention []string
	}{
		{"stale admin", func(t *testing.T, a *account) {
			_, err := a.lf.PutDataLakeSettings(a.ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &lftypes.DataLakeSettings{DataLakeAdmins: []lftypes.DataLakePrincipal{
				{DataLakePrincipalIdentifier: aws.String(testAdminRole)}, {DataLakePrincipalIdentifier: aws.String("arn:aws:iam::123456789012:role/deleted-by-destroy")}}}})
			must(t, err)
		}, CheckAdmins, []string{"role/deleted-by-destroy", "ConfigureLakeFormation drops them"}},
		{"revoked grant", func(t *testing.T, a *account) {
			_, err := a.lf.RevokePermissions(a.ctx, &lf.RevokePermissionsInput{
				Principal: &lftypes.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(testAnalystRole)},
				Resource: &lftypes.Resource{LFTagPolicy: &lftypes.LFTagPolicyResource{ResourceType: lftypes.ResourceTypeTable,
					Expression: []lftypes.LFTag{{TagKey: aws.String("source"), TagValues: []string{"product"}}}}},
				Permissions: []lftypes.Permission{lftypes.PermissionSelect, lftypes.PermissionDescribe}})
			must(t, err)
		}, CheckGrants, []string{"TABLE with source=product to " + testAnalystRole, "GrantTagPermissions"}},
		{"removed tag value", func(t *testing.T, a *account) {
			_, err := a.lf.UpdateLFTag(a.ctx, &lf.UpdateLFTagInput{TagKey: aws.String("maintenance"), TagValuesToDelete: []string{"manual"}})
			must(t, err)
		}, CheckLFTags, []string{"maintenance=manual", "EnsureLFTags"}},
		{"schedule disabled", func(t *testing.T, a *account) {
			in := a.scheduleInput(schedtypes.ScheduleStateDisabled)
			_, err := scheduler.NewFromConfig(a.moto.Config()).UpdateSchedule(a.ctx, &scheduler.UpdateScheduleInput{Name: in.Name, ScheduleExpression: in.ScheduleExpression,
				ScheduleExpressionTimezone: in.ScheduleExpressionTimezone, State: in.State, FlexibleTimeWindow: in.FlexibleTimeWindow, Target: in.Target})
			must(t, err)
		}, CheckSchedule, []string{"DISABLED", "update-schedule"}},
		{"S3 endpoint deleted", func(t *testing.T, a *account) {
			_, err := a.ec2.DeleteVpcEndpoints(a.ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{a.endpoint}})
			must(t, err)
		}, "network:s3-route", []string{"create-vpc-endpoint"}},
		{"blueprint schedule enabled again", func(t *testing.T, a *account) {
			// Issue 21: lakeforge adopt --apply stopped the blueprint's
			// schedule; someone starts it again.
			g := glue.NewFromConfig(a.moto.Config())
			_, err := g.CreateCrawler(a.ctx, &glue.CreateCrawlerInput{Name: aws.String("workflow_output_crawler"), Role: aws.String(testWorkflowRole), DatabaseName: aws.String("kthr01"),
				Targets: &gluetypes.CrawlerTargets{S3Targets: []gluetypes.S3Target{{Path: aws.String("s3://blog-lake/kthr01/")}}}})
			must(t, err)
			_, err = g.CreateTrigger(a.ctx, &glue.CreateTriggerInput{Name: aws.String("workflow_starting_trigger"), WorkflowName: aws.String("workflow"), Type: gluetypes.TriggerTypeScheduled,
				Schedule: aws.String("cron(45 9 * * ? *)"), Actions: []gluetypes.Action{{CrawlerName: aws.String("workflow_output_crawler")}}})
			must(t, err)
			_, err = g.StopTrigger(a.ctx, &glue.StopTriggerInput{Name: aws.String("workflow_starting_trigger")})
			must(t, err)
			if rep, _ := a.doctor(t); failing(rep)[CheckBlueprint].Check != "" {
				t.Fatalf("a stopped blueprint schedule is reported: %+v", failing(rep))
			}
			_, err = g.StartTrigger(a.ctx, &glue.StartTriggerInput{Name: aws.String("workflow_starting_trigger")})
			must(t, err)
		}, CheckBlueprint, []string{"workflow_starting_trigger", "enabled again", "aws glue stop-trigger --name workflow_starting_trigger"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAccount(t, true)
			tc.break_(t, a)
			rep, code := a.doctor(t)
			bad := failing(rep)
			f, ok := bad[tc.check]
			if code != ExitProblem || rep.Healthy || !ok {
				t.Fatalf("exit %d healthy %v, failing %+v; want %s to fail", code, rep.Healthy, bad, tc.check)
			}
			if len(bad) != 1 {
				t.Errorf("more than %s failed: %+v", tc.check, bad)
			}
			text := f.Summary + " " + f.Fix
			for _, m := range tc.mention {
				if !strings.Contains(text, m) {
					t.Errorf("finding %+v does not mention %q", f, m)
				}
			}
		})
	}
}

// With the stack destroyed, doctor reports what it left behind (issue 13)
// with a fix for each, and exits non-zero.
func TestDoctorReportsLeftoversOfADestroyedStack(t *testing.T) {
	a := newAccount(t, false)
	_, err := a.lf.PutDataLakeSettings(a.ctx, &lf.PutDataLakeSettingsInput{DataLakeSettings: &lftypes.DataLakeSettings{DataLakeAdmins: []lftypes.DataLakePrincipal{
		{DataLakePrincipalIdentifier: aws.String("arn:aws:iam::123456789012:role/lakeforge-ConfigureLakeFormationRole-1")}}}})
	must(t, err)
	_, err = a.lf.RegisterResource(a.ctx, &lf.RegisterResourceInput{ResourceArn: aws.String("arn:aws:s3:::lakeforge-lakebucket1a2b3c/lake"), UseServiceLinkedRole: aws.Bool(true)})
	must(t, err)
	rep, code := a.doctor(t)
	if code != ExitProblem || rep.Deployed {
		t.Fatalf("exit %d deployed %v: %+v", code, rep.Deployed, rep.Findings)
	}
	bad := failing(rep)
	left, ok := bad[CheckLeftovers]
	if !ok {
		t.Fatalf("no leftovers finding: %+v", rep.Findings)
	}
	for _, want := range []string{"Glue database kthr01", "LF-tag maintenance", "LF-tag source", "registered location arn:aws:s3:::lakeforge-lakebucket1a2b3c/lake",
		"VPC endpoint " + a.endpoint, "security group rule", "aws glue delete-database --name kthr01", "deregister-resource", "delete-vpc-endpoints"} {
		if !strings.Contains(left.Summary+" "+left.Fix, want) {
			t.Errorf("leftovers finding lacks %q:\n%s\n%s", want, left.Summary, left.Fix)
		}
	}
	if adm, ok := bad[CheckAdmins]; !ok || !strings.Contains(adm.Summary, "ConfigureLakeFormationRole-1") {
		t.Errorf("the destroyed stack's admin role is not reported: %+v", bad)
	}
}
