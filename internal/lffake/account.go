// Package lffake is an in-memory AWS account for the access-model tests:
// the Lake Formation, Glue Data Catalog and IAM calls the steps of
// pkg/lakeformation make (and the few the tests use to set an account up
// and read it back), with the semantics the AWS API references document,
// including the error codes.
//
// It is test support, never product code: pkg/lakeformation's unit tier
// runs its scenario tables against it, and the emulator tier runs the same
// tables against moto and compares the calls and the resulting state
// (TestFakeMatchesMoto), so the fake cannot drift into a second truth.
//
// Where moto 5.2.5 differs from AWS the fake follows AWS (docs/aws-behaviour.md
// lists the differences): GetLFTag and UpdateResource exist as documented,
// ListPermissions accepts the LF-tag resource types, AddLFTagsToResource
// adds to a resource's tags instead of replacing them, GetResourceLFTags of
// a database that never had a tag answers none, RevokePermissions of
// nothing answers "No permissions revoked", and a service-linked
// registration names its role. What it does not model, like moto: it
// accepts any principal (Lake Formation answers "Invalid principal" for one
// that does not exist; the tests inject that answer on both backends), it
// grants on resources and LF-tags without checking that they exist, and it
// records no permissions for the creator of a database or table (it does
// not know the caller), and it lists a grant on every table (TableWildcard)
// as it was granted, where Lake Formation also names it ALL_TABLES (the
// tests that depend on that name list it so on both backends:
// allTablesListingLF in pkg/lakeformation).
package lffake

import (
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// IAMAllowedPrincipals is Lake Formation's group of every IAM principal.
const IAMAllowedPrincipals = "IAM_ALLOWED_PRINCIPALS"

// OnCall is told of every call a client makes, before it is answered: the
// SDK's service ID ("LakeFormation", "Glue", "IAM"), the operation and its
// input. Tests record the calls through it, as a middleware does on the
// real clients.
type OnCall func(serviceID, operation string, input any)

// Account is one AWS account's Lake Formation, Glue Data Catalog and IAM
// state. Its clients share it; it is safe for concurrent use.
type Account struct {
	mu        sync.Mutex
	id        string
	settings  types.DataLakeSettings
	grants    []*grant
	tags      map[string][]string // LF-tag key -> values, in the order added
	resources map[string]*types.ResourceInfo
	databases map[string]*database
	roles     map[string]bool
	users     map[string]bool
}

type database struct {
	db     gluetypes.Database
	tags   tagSet
	tables map[string]*table
}

type table struct {
	t       gluetypes.Table
	tags    tagSet
	columns map[string]tagSet
}

// tagSet is the LF-tags assigned to one resource: one value per key.
type tagSet map[string]string

// New is a fresh account: the data lake settings of a new account (no
// administrator; new databases and tables default to ALL for
// IAM_ALLOWED_PRINCIPALS), nothing else. Unlike a new AWS account (and like
// moto) it holds no CREATE_DATABASE grant for IAM_ALLOWED_PRINCIPALS on the
// catalog: the tests seed the starting state they need on both backends.
func New(accountID string) *Account {
	iamAllowedAll := []types.PrincipalPermissions{{
		Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(IAMAllowedPrincipals)},
		Permissions: []types.Permission{types.PermissionAll},
	}}
	return &Account{
		id: accountID,
		settings: types.DataLakeSettings{
			DataLakeAdmins:                   []types.DataLakePrincipal{},
			CreateDatabaseDefaultPermissions: iamAllowedAll,
			CreateTableDefaultPermissions:    clonePrincipalPermissions(iamAllowedAll),
			TrustedResourceOwners:            []string{},
			AllowExternalDataFiltering:       aws.Bool(false),
			ExternalDataFilteringAllowList:   []types.DataLakePrincipal{},
		},
		tags:      map[string][]string{},
		resources: map[string]*types.ResourceInfo{},
		databases: map[string]*database{},
		roles:     map[string]bool{},
		users:     map[string]bool{},
	}
}

// ServiceLinkedRoleARN is the role Lake Formation names for a location
// registered with UseServiceLinkedRole.
func (a *Account) ServiceLinkedRoleARN() string {
	return "arn:aws:iam::" + a.id + ":role/aws-service-role/lakeformation.amazonaws.com/AWSServiceRoleForLakeFormationDataAccess"
}

// apiError wraps err as the SDK returns a service's error answer: an
// OperationError around a ResponseError that carries the HTTP status, so
// the steps' classification (error code, status) sees what it sees on AWS.
func apiError(serviceID, operation string, status int, err error) error {
	return &smithy.OperationError{ServiceID: serviceID, OperationName: operation, Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
	}}
}

// missingParam is the SDK's client-side validation error for a required
// member left out: the request never leaves the client.
func missingParam(serviceID, operation, inputType, member string) error {
	e := smithy.InvalidParamsError{Context: inputType}
	e.Add(smithy.NewErrParamRequired(member))
	return &smithy.OperationError{ServiceID: serviceID, OperationName: operation, Err: e}
}

func clonePrincipalPermissions(in []types.PrincipalPermissions) []types.PrincipalPermissions {
	if in == nil {
		return nil
	}
	out := make([]types.PrincipalPermissions, len(in))
	for i, p := range in {
		out[i] = types.PrincipalPermissions{Permissions: append([]types.Permission(nil), p.Permissions...)}
		if p.Principal != nil {
			out[i].Principal = &types.DataLakePrincipal{DataLakePrincipalIdentifier: p.Principal.DataLakePrincipalIdentifier}
		}
	}
	return out
}
