package lakeformation

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// PrincipalsAPI reads IAM principals; *iam.Client satisfies it.
type PrincipalsAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// Principals answers whether an IAM principal of the account still exists.
// Lake Formation answers "Invalid principal" both for a principal created
// moments ago and for one that no longer exists; only IAM can tell them apart.
type Principals struct {
	IAM PrincipalsAPI
	// Account is the account whose users and roles IAM can answer for;
	// principals of other accounts are never judged missing.
	Account string
}

// Missing reports whether IAM says arn does not exist (NoSuchEntity). Any
// other answer (the principal exists, another account, not a user or role,
// access denied, a network error) is "not known to be missing": callers
// never drop or refuse a principal on a guess.
func (p *Principals) Missing(ctx context.Context, arn string) bool {
	if p == nil || p.IAM == nil {
		return false
	}
	kind, name, ok := p.parse(arn)
	if !ok {
		return false
	}
	var err error
	switch kind {
	case "role":
		_, err = p.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	case "user":
		_, err = p.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
	}
	return awsretry.IsCode(err, "NoSuchEntity", "NoSuchEntityException")
}

// parse splits "arn:<partition>:iam::<account>:role/<path>/<name>" into
// its kind ("role" or "user") and name, for principals of p.Account.
func (p *Principals) parse(arn string) (kind, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[4] == "" || parts[4] != p.Account {
		return "", "", false
	}
	kind, rest, found := strings.Cut(parts[5], "/")
	if !found || (kind != "role" && kind != "user") || rest == "" {
		return "", "", false
	}
	// The name is the last path element; GetRole and GetUser take no path.
	return kind, rest[strings.LastIndex(rest, "/")+1:], true
}

// AccountOf is the account ID of an IAM ARN, or "".
func AccountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

// Origin says where a principal a step names comes from, so that the error
// for a principal IAM says does not exist names the fix: a configuration
// key, or one of the stack's own resources.
type Origin struct {
	// Setting is the configuration key that lists the principal; "" for
	// one of the stack's own roles.
	Setting string
	// Resource names the stack's own role (e.g. "WorkflowRole", "the
	// tag-output function's role"), when Setting is "".
	Resource string
}

// Configured is the Origin of a principal listed under setting.
func Configured(setting string) Origin { return Origin{Setting: setting} }

// StackRole is the Origin of one of the stack's own roles.
func StackRole(resource string) Origin { return Origin{Resource: resource} }

// missingPrincipal is the error for a principal IAM says does not exist.
// Neither type is retried by the state machine (only TransientError is):
// the principal does not come back by waiting.
func missingPrincipal(arn string, o Origin) error {
	if o.Setting == "" {
		resource := o.Resource
		if resource == "" {
			resource = "a role of the lakeforge stack"
		}
		return &steperr.PermanentError{Op: "iam:GetRole",
			Err: &principalGone{arn},
			Fix: fmt.Sprintf("the stack resource %s (IAM role %s) was deleted outside CloudFormation, and Lake Formation answers \"Invalid principal\" for it until it exists again: redeploy the stack so that CloudFormation recreates it (CloudFormation's drift detection lists it as DELETED; an unchanged `make deploy` does not recreate it, so run `make destroy` and then `make deploy`: the lake bucket and its data, the catalog database and the LF-tags are kept)", resource, roleName(arn))}
	}
	return &steperr.ConfigError{Field: o.Setting, Value: arn,
		Fix: "IAM says this principal does not exist (deleted, or a typing error), so Lake Formation answers \"Invalid principal\" for it forever: correct or remove it in cdk.json and redeploy"}
}

// roleName is the last path element of an IAM ARN.
func roleName(arn string) string {
	return arn[strings.LastIndexAny(arn, ":/")+1:]
}

type principalGone struct{ arn string }

func (e *principalGone) Error() string { return "IAM principal " + e.arn + " does not exist" }

// principalCheck is an awsretry.Check for calls that name principals:
// once "Invalid principal" has persisted, it asks IAM about each of them
// (origins maps a principal to where it comes from) and ends the retries
// when one is missing.
func principalCheck(p *Principals, origins map[string]Origin) awsretry.Check {
	return func(ctx context.Context, condition string, err error) error {
		if !strings.Contains(awsretry.Message(err), "Invalid principal") {
			return nil
		}
		arns := make([]string, 0, len(origins))
		for arn := range origins {
			arns = append(arns, arn)
		}
		sort.Strings(arns)
		for _, arn := range arns {
			if p.Missing(ctx, arn) {
				return missingPrincipal(arn, origins[arn])
			}
		}
		return nil
	}
}

// NewPrincipals answers for the account of the stack's own roles (every
// ARN in own is one of the stack's roles, all in one account).
func NewPrincipals(api PrincipalsAPI, own ...string) *Principals {
	p := &Principals{IAM: api}
	for _, arn := range own {
		if a := AccountOf(arn); a != "" {
			p.Account = a
			break
		}
	}
	return p
}
