package lakeformation

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
)

// MaxValuesPerUpdate is the most values one UpdateLFTag call may add.
const MaxValuesPerUpdate = 50

// EnsureLFTags creates missing LF-tag keys and adds missing values, at most
// MaxValuesPerUpdate per call. It never deletes a key or a value.
type EnsureLFTags struct {
	LF    TagsAPI
	Retry awsretry.Policy
	// Tags maps each key to the values it must have.
	Tags map[string][]string
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
