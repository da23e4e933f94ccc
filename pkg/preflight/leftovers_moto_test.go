package preflight

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
)

// What repair mode created is found by its tag and removed, for the
// stack-delete cleanup and doctor (issue 13): the rule and the endpoints of
// this stack only, never an endpoint someone else made.
func TestFindAndRemoveRepairs(t *testing.T) {
	e := newEnv(t)
	ctx := motoserver.Context(t)
	foreign, _ := e.addS3EndpointElsewhere()
	e.checker.Repair = true
	if r := e.run(); !r.Passed {
		t.Fatalf("repair run failed:\n%s", r.String())
	}
	found, err := FindRepairs(ctx, e.ec2, testStack)
	must(t, err)
	var endpoints, rules []string
	for _, f := range found {
		switch f.Kind {
		case "vpc-endpoint":
			endpoints = append(endpoints, f.ID)
		case "security-group-rule":
			rules = append(rules, f.ID)
			if f.GroupID != e.sg {
				t.Errorf("rule %s on %s, want %s", f.ID, f.GroupID, e.sg)
			}
		}
	}
	if len(endpoints) != len(wantInterfaceServices) || len(rules) != 1 {
		t.Fatalf("found %d endpoints and %d rules, want %d interface endpoints (the S3 one was %s's, modified not created) and 1 rule: %+v",
			len(endpoints), len(rules), len(wantInterfaceServices), foreign, found)
	}
	if slices.Contains(endpoints, foreign) {
		t.Fatalf("the foreign S3 endpoint %s is listed as a repair", foreign)
	}
	if none, err := FindRepairs(ctx, e.ec2, "other-stack"); err != nil || len(none) != 0 {
		t.Fatalf("other-stack: %v %v, want nothing", none, err)
	}

	removed, err := RemoveRepairs(ctx, e.ec2, testStack)
	must(t, err)
	if len(removed) != len(found) || !strings.Contains(strings.Join(removed, "\n"), "removed security-group-rule "+rules[0]) {
		t.Fatalf("removed = %q", removed)
	}
	left, err := FindRepairs(ctx, e.ec2, testStack)
	must(t, err)
	if len(left) != 0 {
		t.Fatalf("left after removal: %+v", left)
	}
	eps, err := e.ec2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{e.vpc}}}})
	must(t, err)
	kept := false
	for _, ep := range eps.VpcEndpoints {
		if aws.ToString(ep.VpcEndpointId) == foreign && !strings.EqualFold(string(ep.State), "deleted") {
			kept = true
		}
	}
	if !kept {
		t.Errorf("the foreign S3 endpoint %s was removed", foreign)
	}
}

// DeleteVpcEndpoints reports a per-endpoint failure inside a 200 answer
// (Unsuccessful); RemoveRepairs must not count it as removed.
type failingDelete struct {
	RepairsAPI
}

func (f failingDelete) DeleteVpcEndpoints(context.Context, *ec2.DeleteVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DeleteVpcEndpointsOutput, error) {
	return &ec2.DeleteVpcEndpointsOutput{Unsuccessful: []ec2types.UnsuccessfulItem{{
		ResourceId: aws.String("vpce-0123"),
		Error:      &ec2types.UnsuccessfulItemError{Code: aws.String("InvalidVpcEndpoint.NotFound"), Message: aws.String("not found")},
	}}}, nil
}

func TestRemoveRepairsReportsUnsuccessfulDelete(t *testing.T) {
	e := newEnv(t)
	e.checker.Repair = true
	e.run()
	removed, err := RemoveRepairs(motoserver.Context(t), failingDelete{e.ec2}, testStack)
	if err == nil || !strings.Contains(err.Error(), "InvalidVpcEndpoint.NotFound") {
		t.Fatalf("err = %v, want the Unsuccessful item's error", err)
	}
	for _, r := range removed {
		if strings.Contains(r, "vpc-endpoint") {
			t.Errorf("counted as removed: %s", r)
		}
	}
}

var _ RepairsAPI = failingDelete{}
