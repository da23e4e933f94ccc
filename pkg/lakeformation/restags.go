package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// tagDatabase makes sure database carries tag. known says the caller knows
// the database has no LF-tags (it created it just now), which saves the read.
// It returns the change made, or "" when the tag was already there.
func tagDatabase(ctx context.Context, api ResourceTagsAPI, retry awsretry.Policy, database string, tag stepcontract.TagRef, known bool) (string, error) {
	resource := &types.Resource{Database: &types.DatabaseResource{Name: aws.String(database)}}
	previous := ""
	if !known {
		out, err := api.GetResourceLFTags(ctx, &lf.GetResourceLFTagsInput{Resource: resource})
		if err != nil {
			return "", fail("lakeformation:GetResourceLFTags", "database "+database, err)
		}
		for _, t := range out.LFTagOnDatabase {
			if aws.ToString(t.TagKey) != tag.Key {
				continue
			}
			if slices.Contains(t.TagValues, tag.Value) {
				return "", nil
			}
			previous = tag.Key + "=" + strings.Join(t.TagValues, ",")
		}
	}
	var out *lf.AddLFTagsToResourceOutput
	err := retry.Do(ctx, "lakeformation:AddLFTagsToResource", func(ctx context.Context) error {
		var err error
		out, err = api.AddLFTagsToResource(ctx, &lf.AddLFTagsToResourceInput{
			Resource: resource,
			LFTags:   []types.LFTagPair{{TagKey: aws.String(tag.Key), TagValues: []string{tag.Value}}},
		})
		return err
	})
	if err != nil {
		return "", fail("lakeformation:AddLFTagsToResource", "database "+database, err)
	}
	// The call answers 200 with per-tag failures: the tag is not assigned.
	if len(out.Failures) > 0 {
		return "", permanent("lakeformation:AddLFTagsToResource",
			fmt.Errorf("LF-tag %s not assigned to database %s: %s", tag, database, failureText(out.Failures)),
			"make sure the LF-tag and value exist (the EnsureLFTags step creates the ones in lfTags.tags of cdk.json; the tag must be listed there), that the function role is a data lake administrator, and that it holds ASSOCIATE on the tag (EnsureLFTags grants it): start the state machine from the beginning")
	}
	if previous != "" {
		return fmt.Sprintf("tagged database %s %s (was %s)", database, tag, previous), nil
	}
	return fmt.Sprintf("tagged database %s %s", database, tag), nil
}
