package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// MaxValuesPerUpdate is the most values one UpdateLFTag call may add.
const MaxValuesPerUpdate = 50

// EnsureLFTags creates missing LF-tag keys and adds missing values, at most
// MaxValuesPerUpdate per call, and grants the LF-tag permissions the other
// steps need (Permissions). It never deletes a key, a value or a grant.
type EnsureLFTags struct {
	LF         TagsAPI
	Principals *Principals
	Retry      awsretry.Policy
	// Tags maps each key to the values it must have.
	Tags map[string][]string
	// Permissions are the LF-tag permissions to converge after the tags.
	Permissions []TagPermission
}

// TagPermission is permissions on one LF-tag value for one principal.
//
// A data lake administrator must hold ASSOCIATE on an LF-tag it did not
// create before it can assign it (Lake Formation guide, "Adding LF-Tag
// creators"); the role that creates the tags (this step's) is not the one
// that assigns them, and the tags may predate lakeforge (a manual build).
type TagPermission struct {
	Principal   string              `json:"principal"`
	Tag         stepcontract.TagRef `json:"tag"`
	Permissions []types.Permission  `json:"permissions"`
	// Resource names the stack's role Principal is, for the error when it
	// was deleted (the principals are always the stack's own roles).
	Resource string `json:"resource,omitempty"`
}

func (p TagPermission) String() string {
	perms := make([]string, len(p.Permissions))
	for i, x := range p.Permissions {
		perms[i] = string(x)
	}
	return strings.Join(perms, "+") + " on LF-tag " + p.Tag.String() + " to " + p.Principal
}

// TagPermissionsFor are the LF-tag permissions of the access model:
// ASSOCIATE (with DESCRIBE) on the tag each tagging role assigns, and
// DESCRIBE with GRANT_WITH_LF_TAG_EXPRESSION on both tags for the role that
// grants on LF-tag expressions.
func TagPermissionsFor(databaseRole, tagOutputRole, grantRole string, workflowTag, analystTag stepcontract.TagRef) []TagPermission {
	assign := []types.Permission{types.PermissionAssociate, types.PermissionDescribe}
	grant := []types.Permission{types.PermissionDescribe, types.PermissionGrantWithLfTagExpression}
	out := []TagPermission{
		{Principal: databaseRole, Tag: workflowTag, Permissions: assign, Resource: FunctionRoleResource(stepcontract.EnsureDatabase)},
		{Principal: tagOutputRole, Tag: analystTag, Permissions: assign, Resource: FunctionRoleResource(stepcontract.TagOutput)},
		{Principal: grantRole, Tag: workflowTag, Permissions: grant, Resource: FunctionRoleResource(stepcontract.GrantTagPermissions)},
	}
	if analystTag != workflowTag {
		out = append(out, TagPermission{Principal: grantRole, Tag: analystTag, Permissions: grant, Resource: FunctionRoleResource(stepcontract.GrantTagPermissions)})
	}
	return out
}

// FunctionRoleResource names the role of one of the stack's functions.
func FunctionRoleResource(function string) string {
	return stepcontract.Pascal(function) + " (the " + function + " function's role)"
}

func (e *EnsureLFTags) Run(ctx context.Context) ([]string, error) {
	var changes []string
	keys := make([]string, 0, len(e.Tags))
	for k := range e.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		want := e.Tags[key]
		have, exists, err := e.read(ctx, key)
		if err != nil {
			return changes, err
		}
		missing := missingValues(want, have)
		if !exists {
			first := missing[:min(len(missing), MaxValuesPerUpdate)]
			err := e.Retry.Do(ctx, "lakeformation:CreateLFTag", func(ctx context.Context) error {
				_, err := e.LF.CreateLFTag(ctx, &lf.CreateLFTagInput{TagKey: aws.String(key), TagValues: first})
				return err
			})
			if awsretry.IsCode(err, "AlreadyExistsException") {
				// Created by someone else since the read: add to it instead.
				if have, _, err = e.read(ctx, key); err != nil {
					return changes, err
				}
				missing = missingValues(want, have)
			} else if err != nil {
				return changes, fail("lakeformation:CreateLFTag", "LF-tag "+key, err)
			} else {
				changes = append(changes, fmt.Sprintf("created LF-tag %s with values %s", key, strings.Join(first, ",")))
				missing = missing[len(first):]
			}
		}
		for len(missing) > 0 {
			batch := missing[:min(len(missing), MaxValuesPerUpdate)]
			err := e.Retry.Do(ctx, "lakeformation:UpdateLFTag", func(ctx context.Context) error {
				_, err := e.LF.UpdateLFTag(ctx, &lf.UpdateLFTagInput{TagKey: aws.String(key), TagValuesToAdd: batch})
				return err
			})
			if err != nil {
				return changes, fail("lakeformation:UpdateLFTag", "LF-tag "+key, err)
			}
			changes = append(changes, fmt.Sprintf("added values %s to LF-tag %s", strings.Join(batch, ","), key))
			missing = missing[len(batch):]
		}
	}
	granted, err := e.grant(ctx)
	return append(changes, granted...), err
}

// grant converges Permissions. One ListPermissions query by resource type
// LF_TAG reads every LF-tag grant; principal and tag are matched in code
// (a principal filter requires a Resource, and Lake Formation's filter by an
// LF-tag resource is no more reliable than by an LF-tag policy).
func (e *EnsureLFTags) grant(ctx context.Context) ([]string, error) {
	if len(e.Permissions) == 0 {
		return nil, nil
	}
	var perms []types.PrincipalResourcePermissions
	err := e.Retry.Do(ctx, "lakeformation:ListPermissions", func(ctx context.Context) error {
		var err error
		perms, err = listPermissions(ctx, e.LF, &lf.ListPermissionsInput{ResourceType: types.DataLakeResourceTypeLfTag})
		return err
	})
	if err != nil {
		return nil, fail("lakeformation:ListPermissions", "the LF-tag grants", err)
	}
	var changes []string
	for _, want := range e.Permissions {
		var have []types.Permission
		for _, p := range perms {
			if p.Principal != nil && aws.ToString(p.Principal.DataLakePrincipalIdentifier) == want.Principal &&
				p.Resource != nil && p.Resource.LFTag != nil && aws.ToString(p.Resource.LFTag.TagKey) == want.Tag.Key &&
				(slices.Contains(p.Resource.LFTag.TagValues, want.Tag.Value) || slices.Contains(p.Resource.LFTag.TagValues, "*")) {
				have = append(have, p.Permissions...)
			}
		}
		missing := missingPermissions(want.Permissions, have)
		if len(missing) == 0 {
			continue
		}
		err := e.Retry.DoChecked(ctx, "lakeformation:GrantPermissions", func(ctx context.Context) error {
			_, err := e.LF.GrantPermissions(ctx, &lf.GrantPermissionsInput{
				Principal:   &types.DataLakePrincipal{DataLakePrincipalIdentifier: aws.String(want.Principal)},
				Resource:    &types.Resource{LFTag: &types.LFTagKeyResource{TagKey: aws.String(want.Tag.Key), TagValues: []string{want.Tag.Value}}},
				Permissions: missing,
			})
			return err
		}, principalCheck(e.Principals, map[string]Origin{want.Principal: StackRole(want.Resource)}))
		if err != nil {
			return changes, fail("lakeformation:GrantPermissions", want.String(), err)
		}
		done := want
		done.Permissions = missing
		changes = append(changes, "granted "+done.String())
	}
	return changes, nil
}

// read returns a key's values and whether it exists. A key always has at
// least one value, so an answer with none is a missing key too (moto answers
// that way where Lake Formation answers EntityNotFoundException).
func (e *EnsureLFTags) read(ctx context.Context, key string) ([]string, bool, error) {
	out, err := e.LF.GetLFTag(ctx, &lf.GetLFTagInput{TagKey: aws.String(key)})
	if awsretry.IsCode(err, "EntityNotFoundException") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fail("lakeformation:GetLFTag", "LF-tag "+key, err)
	}
	return out.TagValues, len(out.TagValues) > 0, nil
}

// missingValues is want minus have, in want's order, without duplicates.
func missingValues(want, have []string) []string {
	var out []string
	for _, v := range want {
		if !slices.Contains(have, v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
