package lakeformation

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// ServiceLinkedRoleARN is Lake Formation's data-access service-linked role.
func ServiceLinkedRoleARN(partition, account string) string {
	return awsarn.ARN(partition, "iam", "", account, "role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess")
}

// RegisterLocation registers the lake prefix with Lake Formation's
// service-linked role and grants DATA_LOCATION_ACCESS on it to the workflow
// role. A prefix already registered with another role is reported, not
// accepted: data access would then go through a role lakeforge does not know.
type RegisterLocation struct {
	LF LocationAPI
	// Principals tells a deleted stack role from a new one when Lake
	// Formation answers "Invalid principal".
	Principals *Principals
	Retry      awsretry.Policy
	// LocationARN is the S3 ARN of the prefix, "arn:aws:s3:::bucket/lake".
	LocationARN string
	// RoleARN is the role the registration must use (the service-linked role).
	RoleARN string
	// WorkflowRoleARN gets DATA_LOCATION_ACCESS.
	WorkflowRoleARN string
}

func (r *RegisterLocation) Run(ctx context.Context) ([]string, error) {
	var changes []string
	registered, err := r.describe(ctx)
	if err != nil {
		return nil, err
	}
	if !registered {
		err := r.Retry.Do(ctx, "lakeformation:RegisterResource", func(ctx context.Context) error {
			_, err := r.LF.RegisterResource(ctx, &lf.RegisterResourceInput{
				ResourceArn:          aws.String(r.LocationARN),
				UseServiceLinkedRole: aws.Bool(true),
			})
			return err
		})
		switch {
		case awsretry.IsCode(err, "AlreadyExistsException"):
			// Registered since the read: done, if with the right role.
			if _, err := r.describe(ctx); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fail("lakeformation:RegisterResource", "location "+r.LocationARN, err)
		default:
			changes = append(changes, "registered "+r.LocationARN+" with the Lake Formation service-linked role")
		}
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

// describe reports whether the location is registered, and fails when it is
// registered with a role other than RoleARN.
func (r *RegisterLocation) describe(ctx context.Context) (bool, error) {
	out, err := r.LF.DescribeResource(ctx, &lf.DescribeResourceInput{ResourceArn: aws.String(r.LocationARN)})
	if awsretry.IsCode(err, "EntityNotFoundException") {
		return false, nil
	}
	if err != nil {
		return false, fail("lakeformation:DescribeResource", "location "+r.LocationARN, err)
	}
	var role string
	if out.ResourceInfo != nil {
		role = aws.ToString(out.ResourceInfo.RoleArn)
	}
	// RoleArn is optional in the API model; a registration that names no
	// role can only be one made with the service-linked role.
	if role != "" && role != r.RoleARN {
		return true, permanent("lakeformation:DescribeResource",
			fmt.Errorf("%s is registered with role %s, but lakeforge registers it with %s", r.LocationARN, role, r.RoleARN),
			fmt.Sprintf("if the other registration is not needed, run `aws lakeformation deregister-resource --resource-arn %s` and start the pipeline again; otherwise change lake.prefix in cdk.json to a prefix nobody registered", r.LocationARN))
	}
	return true, nil
}
