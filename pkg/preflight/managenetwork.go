package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// network.manage: at deploy, a CloudFormation custom resource creates what
// the preflight checks find missing in the connection's network (the
// self-referencing rule, the S3 route, the interface endpoints the job
// needs without a NAT route) and nothing that exists already: EC2 refuses a
// duplicate rule (InvalidPermission.Duplicate), a second S3 gateway
// endpoint on a route table that has one, and a private-DNS endpoint whose
// domain the VPC already serves. When the stack is deleted, or
// network.manage is turned off, it removes what it created.

// Properties of the network custom resource.
const (
	NetworkSubnetProperty         = "SubnetId"
	NetworkZoneProperty           = "AvailabilityZone"
	NetworkSecurityGroupsProperty = "SecurityGroupIds"
	// NetworkPhysicalID is the resource's one physical ID.
	NetworkPhysicalID = "lakeforge-managed-network"
)

// ManagedByTag marks, besides CreatedByTag, what network.manage created, so
// its removal never touches what repair mode created.
const (
	ManagedByTag   = "lakeforge:managed-by"
	ManagedByValue = "network.manage"
)

// ManagedNetworkTags are the tags network.manage adds to CreatedByTag.
func ManagedNetworkTags() []ec2types.Tag {
	return []ec2types.Tag{{Key: aws.String(ManagedByTag), Value: aws.String(ManagedByValue)}}
}

// NetworkManager is network.manage's custom resource handler.
type NetworkManager struct {
	// Checker reads and creates (Repair is implied); its Tags mark what
	// network.manage creates.
	Checker *Checker
	// Remover finds and removes what network.manage created.
	Remover RepairsAPI
}

// Handler is the custom resource's handler (wrap it with cfn.LambdaWrap).
// Create and Update create what is missing and answer with one line per
// change; a check that cannot be repaired (no such subnet, a group outside
// the VPC) or a failed creation fails the resource, after removing what
// this request created, so a failed deploy leaves nothing half-made. Delete
// removes what network.manage created and never fails the stack's
// deletion: what it could not remove it reports in the log.
func (m *NetworkManager) Handler(ctx context.Context, ev cfn.Event) (string, map[string]any, error) {
	c := m.Checker
	if ev.RequestType == cfn.RequestDelete {
		removed, err := RemoveTagged(ctx, m.Remover, c.StackName, ManagedByTag, ManagedByValue)
		if err != nil {
			c.logger().ErrorContext(ctx, "network.manage: could not remove everything it created; remove the rest by hand (lakeforge doctor lists it)", "error", err.Error(), "removed", removed)
		} else {
			c.logger().InfoContext(ctx, "network.manage: removed what it created", "removed", removed)
		}
		return NetworkPhysicalID, map[string]any{"Removed": strings.Join(removed, "; ")}, nil
	}
	if ev.RequestType != cfn.RequestCreate && ev.RequestType != cfn.RequestUpdate {
		return NetworkPhysicalID, nil, &steperr.InvalidInputError{Field: "RequestType", Fix: fmt.Sprintf("Create, Update or Delete (got %q)", ev.RequestType)}
	}
	t, err := networkTarget(ev.ResourceProperties)
	if err != nil {
		return NetworkPhysicalID, nil, err
	}
	before, err := FindTagged(ctx, m.Remover, c.StackName, ManagedByTag, ManagedByValue)
	if err != nil {
		return NetworkPhysicalID, nil, err
	}
	checks, net := c.runNetwork(ctx, t)
	if bad := unrepairable(checks); len(bad) > 0 {
		return NetworkPhysicalID, nil, fmt.Errorf("network.manage cannot make the connection's network work: %s", strings.Join(bad, "; "))
	}
	changes := c.repair(ctx, t, net)
	var failed []string
	for _, line := range changes {
		if strings.HasPrefix(line, "could not") {
			failed = append(failed, line)
		}
	}
	if len(failed) > 0 {
		undone := m.undo(ctx, before)
		return NetworkPhysicalID, nil, fmt.Errorf("network.manage: %s (removed again what this deploy created: %s)", strings.Join(failed, "; "), strings.Join(undone, "; "))
	}
	if len(changes) == 0 {
		changes = []string{"nothing missing: the connection's network has the rule, the S3 route and the endpoints it needs"}
	}
	return NetworkPhysicalID, map[string]any{"Changes": strings.Join(changes, "; ")}, nil
}

// undo removes what network.manage created since before was listed.
func (m *NetworkManager) undo(ctx context.Context, before []Repaired) []string {
	now, err := FindTagged(ctx, m.Remover, m.Checker.StackName, ManagedByTag, ManagedByValue)
	if err != nil {
		return []string{"could not list them: " + err.Error()}
	}
	var fresh []Repaired
	for _, r := range now {
		if !slices.ContainsFunc(before, func(b Repaired) bool { return b.ID == r.ID }) {
			fresh = append(fresh, r)
		}
	}
	done, err := remove(ctx, m.Remover, fresh)
	if err != nil {
		done = append(done, "could not: "+err.Error())
	}
	return done
}

// runNetwork runs the network checks (not the secret, DNS or Glue's test)
// and returns them with what they learned.
func (c *Checker) runNetwork(ctx context.Context, t Target) ([]Check, *network) {
	net := &network{}
	return c.networkPathChecks(ctx, t, net), net
}

// networkPathChecks are the checks of the connection's network path, in
// order, shared by the preflight and the managed network; each fills net
// with what the next one needs.
func (c *Checker) networkPathChecks(ctx context.Context, t Target, net *network) []Check {
	return []Check{
		c.checkSubnet(ctx, t, net),
		c.checkSecurityGroups(ctx, t, net),
		c.checkS3Route(ctx, t, net),
		c.checkEndpoints(ctx, t, net),
	}
}

// unrepairable lists the failed checks without which network.manage cannot
// place anything: no such subnet (or no route table for it), no such
// security groups, or AWS not answering. What it does not own (outbound
// rules, DNS attributes) TestConnection reports at every run.
func unrepairable(checks []Check) []string {
	var out []string
	for _, ch := range checks {
		if ch.Status != Fail {
			continue
		}
		switch {
		case ch.Name == CheckSubnet, ch.Transient:
		case ch.Name == CheckSecurityGroups && strings.Contains(ch.Summary, "not found"):
		default:
			continue
		}
		line := ch.Name + ": " + ch.Summary
		if ch.Fix != "" {
			line += " (fix: " + ch.Fix + ")"
		}
		out = append(out, line)
	}
	return out
}

func networkTarget(props map[string]any) (Target, error) {
	subnet, _ := props[NetworkSubnetProperty].(string)
	zone, _ := props[NetworkZoneProperty].(string)
	raw, _ := props[NetworkSecurityGroupsProperty].([]any)
	var groups []string
	for _, g := range raw {
		if s, ok := g.(string); ok && strings.HasPrefix(s, "sg-") {
			groups = append(groups, s)
		}
	}
	switch {
	case !strings.HasPrefix(subnet, "subnet-"):
		return Target{}, &steperr.InvalidInputError{Field: "ResourceProperties." + NetworkSubnetProperty, Fix: "the connection's subnet id (network.subnetId; the stack sets it, redeploy)"}
	case len(groups) == 0 || len(groups) != len(raw):
		return Target{}, &steperr.InvalidInputError{Field: "ResourceProperties." + NetworkSecurityGroupsProperty, Fix: "the connection's security group ids (network.securityGroupIds; the stack sets them, redeploy)"}
	}
	return Target{SubnetID: subnet, AvailabilityZone: zone, SecurityGroupIDs: groups}, nil
}

// FindTagged lists what CreatedByTag=stackName and key=value mark: the
// endpoints and inbound rules network.manage created.
func FindTagged(ctx context.Context, api RepairsAPI, stackName, key, value string) ([]Repaired, error) {
	all, err := FindRepairs(ctx, api, stackName)
	if err != nil {
		return nil, err
	}
	endpoints, err := api.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + CreatedByTag), Values: []string{stackName}},
		{Name: aws.String("tag:" + key), Values: []string{value}},
	}})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeVpcEndpoints: %w", err)
	}
	rules, err := api.DescribeSecurityGroupRules(ctx, &ec2.DescribeSecurityGroupRulesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + CreatedByTag), Values: []string{stackName}},
		{Name: aws.String("tag:" + key), Values: []string{value}},
	}})
	if err != nil {
		return nil, fmt.Errorf("ec2:DescribeSecurityGroupRules: %w", err)
	}
	marked := map[string]bool{}
	for _, e := range endpoints.VpcEndpoints {
		marked[aws.ToString(e.VpcEndpointId)] = true
	}
	for _, r := range rules.SecurityGroupRules {
		marked[aws.ToString(r.SecurityGroupRuleId)] = true
	}
	var out []Repaired
	for _, r := range all {
		if marked[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// RemoveTagged removes what FindTagged lists, trying every item, and
// returns one line per removed one and the failures joined.
func RemoveTagged(ctx context.Context, api RepairsAPI, stackName, key, value string) ([]string, error) {
	found, err := FindTagged(ctx, api, stackName, key, value)
	if err != nil {
		return nil, err
	}
	return remove(ctx, api, found)
}

// remove deletes each of found, trying every one, and returns one line per
// removed resource and the failures joined.
func remove(ctx context.Context, api RepairsAPI, found []Repaired) ([]string, error) {
	var done, failed []string
	for _, r := range found {
		switch r.Kind {
		case "vpc-endpoint":
			out, err := api.DeleteVpcEndpoints(ctx, &ec2.DeleteVpcEndpointsInput{VpcEndpointIds: []string{r.ID}})
			if err != nil {
				failed = append(failed, "ec2:DeleteVpcEndpoints "+r.ID+": "+err.Error())
				continue
			}
			// A per-endpoint failure comes back inside a 200.
			if len(out.Unsuccessful) > 0 {
				for _, u := range out.Unsuccessful {
					if u.Error != nil {
						failed = append(failed, "ec2:DeleteVpcEndpoints "+r.ID+": "+aws.ToString(u.Error.Code)+": "+aws.ToString(u.Error.Message))
					}
				}
				continue
			}
		case "security-group-rule":
			if _, err := api.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(r.GroupID), SecurityGroupRuleIds: []string{r.ID}}); err != nil {
				failed = append(failed, "ec2:RevokeSecurityGroupIngress "+r.ID+" on "+r.GroupID+": "+err.Error())
				continue
			}
		}
		done = append(done, "removed "+r.Kind+" "+r.ID+" ("+r.Detail+")")
	}
	if len(failed) > 0 {
		return done, fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return done, nil
}
