package adopt

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/internal/testtier"
)

func TestMain(m *testing.M) { motoserver.Main(m) }

// longContext bounds one test's calls: the manual build is some fifty
// requests, more than motoserver.Context's 30 s allow on a loaded machine.
func longContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// ownStack answers DescribeStackResources for a stack that created the
// groups, in the shape CloudFormation documents (the physical id of an
// AWS::IAM::Group is its name). moto 5.2.5's CloudFormation does not
// create AWS::IAM::Group resources (its DescribeStackResources rows are
// empty; docs/aws-behaviour.md), so this answer stands in for that one
// call; DescribeStacks goes to moto.
type ownStack struct {
	StacksAPI
	groups []string
}

func (s ownStack) DescribeStackResources(_ context.Context, in *cloudformation.DescribeStackResourcesInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error) {
	out := &cloudformation.DescribeStackResourcesOutput{}
	for i, g := range s.groups {
		out.StackResources = append(out.StackResources, cftypes.StackResource{StackName: in.StackName, LogicalResourceId: aws.String("Group" + string(rune('A'+i))),
			ResourceType: aws.String("AWS::IAM::Group"), PhysicalResourceId: aws.String(g), ResourceStatus: cftypes.ResourceStatusCreateComplete})
	}
	return out, nil
}

// A redeploy of a stack that made dl_admins itself must not be stopped:
// the group in IAM is the stack's own.
func TestCheckGroupsAcceptsTheStacksOwnGroups(t *testing.T) {
	testtier.External(t, "moto")
	srv := motoserver.Current(t)
	srv.Reset(t)
	ctx := longContext(t)
	cfg := srv.Config()
	im := iam.NewFromConfig(cfg)
	if _, err := im.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("dl_admins")}); err != nil {
		t.Fatal(err)
	}
	groups := []PersonaGroup{{Persona: "admins", Name: "dl_admins"}}
	stacks := ownStack{StacksAPI: cloudformation.NewFromConfig(cfg), groups: []string{"dl_admins"}}
	items, err := CheckGroups(ctx, im, stacks, "lakeforge", groups)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Todo || items[0].Action != Adopt || !strings.Contains(items[0].Reason, "the stack's own group") {
		t.Fatalf("the stack's own group: %+v", items)
	}
	// The same group, made by hand (no stack owns it), stops the deploy.
	items, err = CheckGroups(ctx, im, cloudformation.NewFromConfig(cfg), "lakeforge", groups)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || !items[0].Todo || !strings.Contains(items[0].Fix, "personas.admins.adoptGroup") {
		t.Fatalf("a hand-made group: %+v", items)
	}
}
