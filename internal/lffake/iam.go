package lffake

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const iamService = "IAM"

// IAM is an IAM client of the account: the roles and users that exist.
type IAM struct {
	a      *Account
	onCall OnCall
}

// IAM returns a client; onCall (may be nil) hears every call.
func (a *Account) IAM(onCall OnCall) *IAM { return &IAM{a: a, onCall: onCall} }

func (c *IAM) called(op string, in any) {
	if c.onCall != nil {
		c.onCall(iamService, op, in)
	}
}

func (c *IAM) noSuchEntity(op, what string) error {
	return apiError(iamService, op, 404, &iamtypes.NoSuchEntityException{Message: aws.String("The " + what + " cannot be found.")})
}

func (c *IAM) exists(op, what string) error {
	return apiError(iamService, op, 409, &iamtypes.EntityAlreadyExistsException{Message: aws.String(what + " already exists.")})
}

func (c *IAM) arn(kind, name string) *string {
	return aws.String("arn:aws:iam::" + c.a.id + ":" + kind + "/" + name)
}

// GetRole takes the role's name without its path; NoSuchEntity when there
// is no such role.
func (c *IAM) GetRole(_ context.Context, in *iam.GetRoleInput, _ ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	const op = "GetRole"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	name := aws.ToString(in.RoleName)
	if !c.a.roles[name] {
		return nil, c.noSuchEntity(op, "role with name "+name)
	}
	return &iam.GetRoleOutput{Role: &iamtypes.Role{RoleName: aws.String(name), Arn: c.arn("role", name), Path: aws.String("/")}}, nil
}

func (c *IAM) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	const op = "GetUser"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	name := aws.ToString(in.UserName)
	if !c.a.users[name] {
		return nil, c.noSuchEntity(op, "user with name "+name)
	}
	return &iam.GetUserOutput{User: &iamtypes.User{UserName: aws.String(name), Arn: c.arn("user", name), Path: aws.String("/")}}, nil
}

func (c *IAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	const op = "CreateRole"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	name := aws.ToString(in.RoleName)
	if c.a.roles[name] {
		return nil, c.exists(op, "Role with name "+name)
	}
	c.a.roles[name] = true
	return &iam.CreateRoleOutput{Role: &iamtypes.Role{RoleName: aws.String(name), Arn: c.arn("role", name), Path: aws.String("/")}}, nil
}

func (c *IAM) CreateUser(_ context.Context, in *iam.CreateUserInput, _ ...func(*iam.Options)) (*iam.CreateUserOutput, error) {
	const op = "CreateUser"
	c.called(op, in)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	name := aws.ToString(in.UserName)
	if c.a.users[name] {
		return nil, c.exists(op, "User with name "+name)
	}
	c.a.users[name] = true
	return &iam.CreateUserOutput{User: &iamtypes.User{UserName: aws.String(name), Arn: c.arn("user", name), Path: aws.String("/")}}, nil
}
