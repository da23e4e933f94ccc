package preflight

// network.manage's custom resource against moto: it creates only what the
// checks find missing, with each piece already present in turn. moto 5.2.5
// rejects a duplicate security group rule (InvalidPermission.Duplicate) as
// EC2 does, but accepts a second S3 gateway endpoint on a route table that
// has one and a private-DNS endpoint whose domain the VPC already serves,
// which EC2 refuses; so the tests assert that no such request is sent at
// all (docs/aws-behaviour.md).

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/internal/awscalls"
)

// failingCreate is the recorded EC2 client with CreateVpcEndpoint failing
// for one service name.
type failingCreate struct {
	*ec2.Client
	service string
}

func (f *failingCreate) CreateVpcEndpoint(ctx context.Context, in *ec2.CreateVpcEndpointInput, opts ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error) {
	if aws.ToString(in.ServiceName) == f.service {
		return nil, errors.New("VpcEndpointLimitExceeded: the maximum number of VPC endpoints has been reached")
	}
	return f.Client.CreateVpcEndpoint(ctx, in, opts...)
}

// manager is network.manage's handler on the env's recorded clients.
func (e *env) manager() *NetworkManager {
	recorded := e.rec.Attach(motoserver.Current(e.t).Config())
	c := *e.checker
	c.Repair, c.Tags = true, ManagedNetworkTags()
	c.Route53 = route53.NewFromConfig(recorded)
	return &NetworkManager{Checker: &c, Remover: ec2.NewFromConfig(recorded)}
}

func (e *env) networkEvent(kind cfn.RequestType) cfn.Event {
	return cfn.Event{RequestType: kind, StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/" + testStack + "/1", LogicalResourceID: "ManagedNetwork",
		PhysicalResourceID: NetworkPhysicalID, ResourceType: "Custom::LakeforgeNetwork",
		ResourceProperties: map[string]any{NetworkSubnetProperty: e.subnet, NetworkZoneProperty: "us-east-1a", NetworkSecurityGroupsProperty: []any{e.sg}}}
}

// endpointsOf counts the VPC's endpoints by service name.
func (e *env) endpointsOf() map[string]int {
	out, err := e.ec2.DescribeVpcEndpoints(motoserver.Context(e.t), &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.vpc}}}})
	must(e.t, err)
	n := map[string]int{}
	for _, ep := range out.VpcEndpoints {
		if st := strings.ToLower(string(ep.State)); st != "deleted" && st != "deleting" {
			n[aws.ToString(ep.ServiceName)]++
		}
	}
	return n
}

func countCalls(calls []string, action string) int {
	n := 0
	for _, c := range calls {
		if c == action {
			n++
		}
	}
	return n
}

// Each piece the blog's manual build (or another stack) already made is
// left alone: the rule of step 15, an S3 gateway endpoint on the subnet's
// route table or on another table of the VPC, the interface endpoints, a
// private hosted zone serving a service's domain, a NAT route. Only the
// rest is created, tagged, and a second deploy creates nothing.
func TestManagedNetworkCreatesOnlyWhatIsMissing(t *testing.T) {
	s3 := "com.amazonaws.us-east-1.s3"
	cases := []struct {
		name    string
		present func(e *env)
		// the calls the deploy may make, and the endpoints that then exist
		authorize, create, modify int
		want                      map[string]int
	}{
		{"nothing present", func(e *env) {}, 1, 6, 0, map[string]int{s3: 1, "com.amazonaws.us-east-1.glue": 1, "com.amazonaws.us-east-1.kms": 1}},
		{"the self-referencing rule of the manual build", func(e *env) { e.addSelfReferencingRule() }, 0, 6, 0, map[string]int{s3: 1}},
		{"an S3 gateway endpoint on the subnet's route table", func(e *env) { e.addS3Endpoint() }, 1, 5, 0, map[string]int{s3: 1}},
		{"an S3 gateway endpoint on another route table", func(e *env) { e.addS3EndpointElsewhere() }, 1, 5, 1, map[string]int{s3: 1}},
		{"every interface endpoint", func(e *env) { e.addInterfaceEndpoints() }, 1, 1, 0, map[string]int{s3: 1, "com.amazonaws.us-east-1.glue": 1}},
		{"a private hosted zone serving glue's domain", func(e *env) { e.addPrivateZone("glue.us-east-1.amazonaws.com") }, 1, 5, 0, map[string]int{s3: 1, "com.amazonaws.us-east-1.glue": 0, "com.amazonaws.us-east-1.sts": 1}},
		{"a NAT route", func(e *env) { e.addNATRoute() }, 1, 0, 0, map[string]int{s3: 0, "com.amazonaws.us-east-1.glue": 0}},
		{"everything", func(e *env) { e.addSelfReferencingRule(); e.addS3Endpoint(); e.addInterfaceEndpoints() }, 0, 0, 0, map[string]int{s3: 1, "com.amazonaws.us-east-1.glue": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			c.present(e)
			m := e.manager()
			e.rec.Reset()
			id, data, err := m.Handler(motoserver.Context(t), e.networkEvent(cfn.RequestCreate))
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			calls := e.rec.Calls()
			for action, n := range map[string]int{"ec2:AuthorizeSecurityGroupIngress": c.authorize, "ec2:CreateVpcEndpoint": c.create, "ec2:ModifyVpcEndpoint": c.modify} {
				if got := countCalls(calls, action); got != n {
					t.Errorf("%d %s calls, want %d (calls %v)", got, action, n, calls)
				}
			}
			have := e.endpointsOf()
			for svc, n := range c.want {
				if have[svc] != n {
					t.Errorf("%d endpoints for %s, want %d (all %v)", have[svc], svc, n, have)
				}
			}
			if id != NetworkPhysicalID || data["Changes"] == "" {
				t.Errorf("id %q data %v", id, data)
			}
			// What it created carries both tags.
			own, err := FindTagged(motoserver.Context(t), m.Remover, testStack, ManagedByTag, ManagedByValue)
			must(t, err)
			if len(own) != c.authorize+c.create {
				t.Errorf("%d resources tagged as network.manage's, want %d: %v", len(own), c.authorize+c.create, own)
			}
			// A second deploy finds nothing missing.
			e.rec.Reset()
			if _, data, err = m.Handler(motoserver.Context(t), e.networkEvent(cfn.RequestUpdate)); err != nil {
				t.Fatalf("update: %v", err)
			}
			for _, call := range e.rec.Calls() {
				if call == "ec2:AuthorizeSecurityGroupIngress" || call == "ec2:CreateVpcEndpoint" || call == "ec2:ModifyVpcEndpoint" {
					t.Fatalf("the second deploy made %v: %v", call, data)
				}
			}
		})
	}
}

// Delete removes what network.manage created and nothing else: not the
// rule someone added by hand, not what repair mode created.
func TestManagedNetworkDeleteRemovesOnlyItsOwn(t *testing.T) {
	e := newEnv(t)
	e.addSelfReferencingRule()
	ctx := motoserver.Context(t)
	// Repair mode's endpoint: created-by only.
	repairEP, err := e.ec2.CreateVpcEndpoint(ctx, &ec2.CreateVpcEndpointInput{VpcId: aws.String(e.vpc), ServiceName: aws.String("com.amazonaws.us-east-1.glue"),
		VpcEndpointType: ec2types.VpcEndpointTypeInterface, SubnetIds: []string{e.subnet}, SecurityGroupIds: []string{e.sg}, PrivateDnsEnabled: aws.Bool(true),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpoint, Tags: []ec2types.Tag{{Key: aws.String(CreatedByTag), Value: aws.String(testStack)}}}}})
	must(t, err)
	m := e.manager()
	if _, _, err := m.Handler(ctx, e.networkEvent(cfn.RequestCreate)); err != nil {
		t.Fatal(err)
	}
	_, data, err := m.Handler(ctx, e.networkEvent(cfn.RequestDelete))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(data["Removed"].(string), "removed vpc-endpoint"); n != 5 {
		t.Errorf("removed %d endpoints, want the S3 one and the 4 interface endpoints it created: %v", n, data)
	}
	have := e.endpointsOf()
	if have["com.amazonaws.us-east-1.glue"] != 1 || have["com.amazonaws.us-east-1.s3"] != 0 || have["com.amazonaws.us-east-1.sts"] != 0 {
		t.Fatalf("endpoints after delete %v: only repair's glue endpoint %s must remain", have, aws.ToString(repairEP.VpcEndpoint.VpcEndpointId))
	}
	groups, err := e.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{e.sg}})
	must(t, err)
	if !hasSelfReferencingAllTCP(groups.SecurityGroups[0].IpPermissions, e.sg) {
		t.Fatal("delete removed the self-referencing rule someone added by hand")
	}
}

// A creation that fails fails the deploy, and what this deploy created is
// removed again; what existed stays. A subnet that does not exist fails
// before anything is made, naming it.
func TestManagedNetworkFailureLeavesNothingHalfMade(t *testing.T) {
	e := newEnv(t)
	e.addS3Endpoint()
	m := e.manager()
	m.Checker.EC2 = &failingCreate{Client: m.Checker.EC2.(*ec2.Client), service: "com.amazonaws.us-east-1.kms"}
	ctx := motoserver.Context(t)
	_, _, err := m.Handler(ctx, e.networkEvent(cfn.RequestCreate))
	if err == nil || !strings.Contains(err.Error(), "com.amazonaws.us-east-1.kms") || !strings.Contains(err.Error(), "VpcEndpointLimitExceeded") {
		t.Fatalf("err = %v, want the kms endpoint's failure", err)
	}
	have := e.endpointsOf()
	if have["com.amazonaws.us-east-1.s3"] != 1 || have["com.amazonaws.us-east-1.glue"] != 0 || have["com.amazonaws.us-east-1.sts"] != 0 {
		t.Fatalf("endpoints after the failed deploy %v: want only the S3 endpoint that existed", have)
	}
	own, err := FindTagged(ctx, m.Remover, testStack, ManagedByTag, ManagedByValue)
	must(t, err)
	if len(own) != 0 {
		t.Fatalf("left behind %v", own)
	}

	ev := e.networkEvent(cfn.RequestCreate)
	ev.ResourceProperties[NetworkSubnetProperty] = "subnet-0000000000000000f"
	e.rec.Reset()
	if _, _, err := e.manager().Handler(ctx, ev); err == nil || !strings.Contains(err.Error(), "subnet-0000000000000000f") {
		t.Fatalf("missing subnet: %v", err)
	}
	if slices.ContainsFunc(e.rec.Calls(), func(c string) bool {
		return strings.HasPrefix(c, "ec2:Create") || strings.HasPrefix(c, "ec2:Authorize")
	}) {
		t.Fatalf("calls %v for a subnet that does not exist", e.rec.Calls())
	}
}

// addPrivateZone associates a private hosted zone for domain with the VPC,
// as a shared-endpoint (hub) setup does.
func (e *env) addPrivateZone(domain string) {
	_, err := route53.NewFromConfig(motoserver.Current(e.t).Config()).CreateHostedZone(motoserver.Context(e.t), &route53.CreateHostedZoneInput{
		Name: aws.String(domain), CallerReference: aws.String("lakeforge-test-" + domain),
		VPC:              &r53types.VPC{VPCId: aws.String(e.vpc), VPCRegion: r53types.VPCRegionUsEast1},
		HostedZoneConfig: &r53types.HostedZoneConfig{PrivateZone: true},
	})
	must(e.t, err)
}

// Every action manage-network can call, over its paths (create with an S3
// endpoint on another route table, update, delete), for its golden file.
func TestManageNetworkIAMActionsGolden(t *testing.T) {
	e := newEnv(t)
	e.addS3EndpointElsewhere()
	m := e.manager()
	e.rec.Reset()
	for _, kind := range []cfn.RequestType{cfn.RequestCreate, cfn.RequestUpdate, cfn.RequestDelete} {
		if _, _, err := m.Handler(motoserver.Context(t), e.networkEvent(kind)); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
	}
	awscalls.CheckGolden(t, "../../"+awscalls.GoldenPath("manage-network"), e.rec.Calls())
}
