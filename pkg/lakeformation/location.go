package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/steperr"
)

// ServiceLinkedRoleARN is Lake Formation's data-access service-linked role.
func ServiceLinkedRoleARN(partition, account string) string {
	return awsarn.ARN(partition, "iam", "", account, "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess")
}

// RegisterLocation registers the lake prefix with the stack's registration
// role (RoleARN, a user-defined role: Glue 5.0 full table access, like EMR,
// needs one) and grants DATA_LOCATION_ACCESS on it to the workflow role.
//
// A prefix an earlier deployment registered with Lake Formation's
// service-linked role is moved to RoleARN with UpdateResource, which keeps
// the registration (and every grant on the location) in place: no moment
// without a registration, so nothing breaks for the analyst. A prefix
// registered with any other role is reported, not taken over: data access
// would then go through a role lakeforge does not know.
type RegisterLocation struct {
	LF LocationAPI
	// Principals tells a deleted stack role from a new one when Lake
	// Formation answers "Invalid principal".
	Principals *Principals
	Retry      awsretry.Policy
	// LocationARN is the S3 ARN of the prefix, "arn:aws:s3:::bucket/lake".
	LocationARN string
	// RoleARN is the role the registration must use: the stack's
	// registration role.
	RoleARN string
	// WorkflowRoleARN gets DATA_LOCATION_ACCESS.
	WorkflowRoleARN string
}

// registration is what DescribeResource says about the location.
type registration struct {
	registered bool
	// move says why the registration must be moved to RoleARN ("" when
	// it need not): it uses the service-linked role, or a role IAM says no
	// longer exists (the registration role of a destroyed deployment).
	move string
	info *types.ResourceInfo
}

func (r *RegisterLocation) Run(ctx context.Context) ([]string, error) {
	var changes []string
	reg, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	if !reg.registered {
		err := r.Retry.DoChecked(ctx, "lakeformation:RegisterResource", func(ctx context.Context) error {
			_, err := r.LF.RegisterResource(ctx, &lf.RegisterResourceInput{
				ResourceArn:          aws.String(r.LocationARN),
				RoleArn:              aws.String(r.RoleARN),
				UseServiceLinkedRole: aws.Bool(false),
			})
			return err
		}, principalCheck(r.Principals, map[string]Origin{r.RoleARN: StackRole(RegistrationRoleResource)}))
		switch {
		case awsretry.IsCode(err, "AlreadyExistsException"):
			// Registered since the read: done, if with the right role.
			if reg, err = r.describe(ctx); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fail("lakeformation:RegisterResource", "location "+r.LocationARN, err)
		default:
			changes = append(changes, "registered "+r.LocationARN+" with the role "+r.RoleARN)
		}
	}
	if reg.move != "" {
		change, err := r.moveRegistration(ctx, reg)
		if err != nil {
			return changes, err
		}
		changes = append(changes, change)
	}

	granted := false
	principal := &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(r.WorkflowRoleARN)}
	resource := &types.Resource{DataLocation: &types.DataLocationResource{ResourceArn: aws.String(r.LocationARN)}}
	err = r.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
		perms, err := listPermissions(ctx, r.LF, &lf.ListPermissionsInput{Principal: principal, Resource: resource})
		if err != nil {
			return err
		}
		for _, p := range perms {
			if p.Resource != nil && p.Resource.DataLocation != nil && aws.ToString(p.Resource.DataLocation.ResourceArn) == r.LocationARN &&
				slices.Contains(p.Permissions, types.PermissionDataLocationAccess) {
				granted = true
			}
		}
		return nil
	})
	if err != nil {
		return changes, fail("lakeformation:ListPermissions", "the data location permissions of "+r.WorkflowRoleARN, err)
	}
	if granted {
		return changes, nil
	}
	// Right after the registration Lake Formation may still answer "register
	// the S3 path first"; the retry policy waits that out.
	err = r.Retry.DoChecked(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
		_, err := r.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{
			Principal:   principal,
			Resource:    resource,
			Permissions: []types.Permission{types.PermissionDataLocationAccess},
		})
		return err
	}, principalCheck(r.Principals, map[string]Origin{r.WorkflowRoleARN: StackRole(WorkflowRoleResource)}))
	if err != nil {
		return changes, fail("lakeformation:GrantPermissions", "DATA_LOCATION_ACCESS on "+r.LocationARN, err)
	}
	return append(changes, "granted DATA_LOCATION_ACCESS on "+r.LocationARN+" to "+r.WorkflowRoleARN), nil
}

// moveRegistration points an existing registration at RoleARN.
// HybridAccessEnabled and WithFederation are sent back as read, so the move
// changes the role and nothing else.
func (r *RegisterLocation) moveRegistration(ctx context.Context, reg registration) (string, error) {
	in := &lf.UpdateResourceInput{ResourceArn: aws.String(r.LocationARN), RoleArn: aws.String(r.RoleARN)}
	if reg.info != nil {
		in.HybridAccessEnabled, in.WithFederation = reg.info.HybridAccessEnabled, reg.info.WithFederation
	}
	err := r.Retry.DoChecked(ctx, "lakeformation:UpdateResource", func(ctx context.Context) error {
		_, err := r.LF.UpdateResource(ctx, in)
		return err
	}, principalCheck(r.Principals, map[string]Origin{r.RoleARN: StackRole(RegistrationRoleResource)}))
	if err != nil {
		err = fail("lakeformation:UpdateResource", "the registration of "+r.LocationARN, err)
		if pe, ok := err.(*steperr.PermanentError); ok {
			pe.Fix = fmt.Sprintf("%s. The location is still registered as it was (%s); the import job needs the registration role, so move it by hand: `aws lakeformation update-resource --resource-arn %s --role-arn %s`, then start the pipeline again", pe.Fix, reg.move, r.LocationARN, r.RoleARN)
		}
		return "", err
	}
	return "moved the registration of " + r.LocationARN + " to " + r.RoleARN + ": " + reg.move, nil
}

// describe reads the location's registration, and fails when it is
// registered with a role that is neither RoleARN nor the service-linked role.
func (r *RegisterLocation) describe(ctx context.Context) (registration, error) {
	out, err := r.LF.DescribeResource(ctx, &lf.DescribeResourceInput{ResourceArn: aws.String(r.LocationARN)})
	if awsretry.IsCode(err, "EntityNotFoundException") {
		return registration{}, nil
	}
	if err != nil {
		return registration{}, fail("lakeformation:DescribeResource", "location "+r.LocationARN, err)
	}
	reg := registration{registered: true, info: out.ResourceInfo}
	var role string
	if out.ResourceInfo != nil {
		role = aws.ToString(out.ResourceInfo.RoleArn)
	}
	switch {
	case role == r.RoleARN:
		return reg, nil
	case role == "" || isServiceLinkedRole(role):
		// RoleArn is optional in the API model; a registration that names
		// no role can only be one made with the service-linked role.
		reg.move = "it used the Lake Formation service-linked role (an earlier lakeforge deployment registered it so)"
		return reg, nil
	case r.Principals.Missing(ctx, role):
		// Lake Formation cannot assume a deleted role, so the registration
		// serves nobody: typically the registration role of a deployment
		// that `make destroy` removed while the location stayed registered.
		reg.move = "it used the role " + role + ", which IAM says no longer exists (a destroyed deployment's registration role)"
		return reg, nil
	}
	return reg, permanent("lakeformation:DescribeResource",
		fmt.Errorf("%s is registered with role %s, but lakeforge registers it with %s", r.LocationARN, role, r.RoleARN),
		fmt.Sprintf("if the other registration is not needed, run `aws lakeformation deregister-resource --resource-arn %s` and start the pipeline again; otherwise change lake.prefix in cdk.json to a prefix nobody registered", r.LocationARN))
}

// isServiceLinkedRole reports whether arn is Lake Formation's data-access
// service-linked role, in any partition and account.
func isServiceLinkedRole(arn string) bool {
	return strings.HasSuffix(arn, ":role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess")
}
