package adopt

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// KindUser is a member of an adopted group.
const KindUser = "user"

// PersonaGroup is one persona's IAM group as the configuration names it.
type PersonaGroup struct {
	// Persona is "admins" or "analysts" (the configuration key under personas).
	Persona string
	// Name is personas.<persona>.groupName; empty for no group.
	Name string
	// Adopt is personas.<persona>.adoptGroup.
	Adopt bool
}

// Setting is the configuration key that adopts the group.
func (g PersonaGroup) Setting() string { return "personas." + g.Persona + ".adoptGroup" }

// groupInfo is what IAM says about a group.
type groupInfo struct {
	exists   bool
	members  []string
	policies []string
}

func readGroup(ctx context.Context, api IAMAPI, name string) (groupInfo, error) {
	out, err := api.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(name)})
	if awsretry.Code(err) == "NoSuchEntity" {
		return groupInfo{}, nil
	}
	if err != nil {
		return groupInfo{}, fmt.Errorf("iam:GetGroup %s: %w", name, err)
	}
	g := groupInfo{exists: true}
	for _, u := range out.Users {
		g.members = append(g.members, aws.ToString(u.UserName))
	}
	att, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(name)})
	if err != nil {
		return g, fmt.Errorf("iam:ListAttachedGroupPolicies %s: %w", name, err)
	}
	for _, p := range att.AttachedPolicies {
		g.policies = append(g.policies, aws.ToString(p.PolicyName))
	}
	inl, err := api.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)})
	if err != nil {
		return g, fmt.Errorf("iam:ListGroupPolicies %s: %w", name, err)
	}
	for _, p := range inl.PolicyNames {
		g.policies = append(g.policies, p+" (inline)")
	}
	sort.Strings(g.members)
	return g, nil
}

// stackGroups are the physical names of the IAM groups the stack created;
// none when the stack does not exist.
func stackGroups(ctx context.Context, api StacksAPI, stack string) (map[string]bool, error) {
	out, err := api.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		// CloudFormation answers ValidationError "Stack with id X does not exist".
		if awsretry.Code(err) == "ValidationError" && strings.Contains(err.Error(), "does not exist") {
			return map[string]bool{}, nil
		}
		return nil, fmt.Errorf("cloudformation:DescribeStackResources %s: %w", stack, err)
	}
	own := map[string]bool{}
	for _, r := range out.StackResources {
		if aws.ToString(r.ResourceType) == "AWS::IAM::Group" {
			own[aws.ToString(r.PhysicalResourceId)] = true
		}
	}
	return own, nil
}

// CheckGroups says, for each persona group, whether the deploy can create
// or adopt it. An item with Todo set stops a deploy: IAM group names are
// unique in an account, so creating a group that exists fails with
// EntityAlreadyExists and rolls the stack back.
func CheckGroups(ctx context.Context, iamAPI IAMAPI, stacks StacksAPI, stack string, groups []PersonaGroup) ([]Item, error) {
	own, err := stackGroups(ctx, stacks, stack)
	if err != nil {
		return nil, err
	}
	var items []Item
	for _, pg := range groups {
		if pg.Name == "" {
			continue
		}
		g, err := readGroup(ctx, iamAPI, pg.Name)
		if err != nil {
			return nil, err
		}
		it := Item{Kind: KindGroup, Name: pg.Name}
		desc := describeGroup(g)
		switch {
		case !g.exists && !pg.Adopt:
			it.Action, it.Reason = Change, "does not exist; the stack creates it"
		case !g.exists && pg.Adopt:
			it.Action, it.Todo = Adopt, true
			it.Reason = fmt.Sprintf("%s is true but IAM has no group %s", pg.Setting(), pg.Name)
			it.Fix = fmt.Sprintf("set %s to false (the stack then creates the group), or set personas.%s.groupName to the existing group", pg.Setting(), pg.Persona)
		case own[pg.Name]:
			it.Action, it.Reason = Adopt, "the stack's own group ("+desc+")"
		case pg.Adopt:
			it.Action = Adopt
			it.Reason = "exists (" + desc + "); the stack attaches the policy that lets its members assume the " + strings.TrimSuffix(pg.Persona, "s") + " role, and keeps the group, its members and its policies"
			if strings.Contains(desc, "AmazonS3FullAccess") {
				it.Reason += "; AmazonS3FullAccess lets its members read the lake's files around Lake Formation: detach it once they use the role (docs/migration.md)"
			}
		default:
			it.Action, it.Todo = Change, true
			it.Reason = "exists already (" + desc + ") and the stack would create it again: cdk deploy fails with EntityAlreadyExists and rolls back"
			it.Fix = fmt.Sprintf("set %s to true in the configuration: the stack then attaches the assume-role policy to the existing group instead of creating it (or set personas.%s.groupName to a name not in use)", pg.Setting(), pg.Persona)
		}
		items = append(items, it)
		if g.exists && !own[pg.Name] {
			for _, u := range g.members {
				items = append(items, Item{Kind: KindUser, Name: u, Action: Leave,
					Reason: "member of " + pg.Name + "; kept as it is (may assume the " + strings.TrimSuffix(pg.Persona, "s") + " role once the group is adopted)"})
			}
		}
	}
	return items, nil
}

func describeGroup(g groupInfo) string {
	parts := []string{fmt.Sprintf("%d members", len(g.members))}
	if len(g.policies) > 0 {
		parts = append(parts, "policies "+strings.Join(g.policies, ", "))
	}
	return strings.Join(parts, "; ")
}
