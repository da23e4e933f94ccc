package lakeformation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// EnsureDatabase creates the Glue database at the lake prefix when it is
// missing and tags it with the workflow tag, which gives the workflow role
// its grants. A database of that name at another location is an error.
type EnsureDatabase struct {
	Glue  DatabaseAPI
	LF    ResourceTagsAPI
	Retry awsretry.Policy
	Name  string
	// LocationURI is "s3://bucket/prefix".
	LocationURI string
	Tag         config.TagRef
}

func (d *EnsureDatabase) Run(ctx context.Context) ([]string, error) {
	var changes []string
	created := false
	got, err := d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(d.Name)})
	switch {
	case awsretry.IsCode(err, "EntityNotFoundException"):
		err := d.Retry.Do(ctx, "glue:CreateDatabase", func(ctx context.Context) error {
			_, err := d.Glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{
				Name:        aws.String(d.Name),
				LocationUri: aws.String(d.LocationURI),
				Description: aws.String("lakeforge: tables imported from the source database"),
			}})
			return err
		})
		if awsretry.IsCode(err, "AlreadyExistsException") {
			// Created since the read: check it like any existing database.
			if got, err = d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(d.Name)}); err != nil {
				return nil, fail("glue:GetDatabase", "database "+d.Name, err)
			}
			if err := d.checkLocation(got.Database); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fail("glue:CreateDatabase", "database "+d.Name, err)
		} else {
			created = true
			changes = append(changes, "created database "+d.Name+" at "+d.LocationURI)
		}
	case err != nil:
		return nil, fail("glue:GetDatabase", "database "+d.Name, err)
	default:
		if err := d.checkLocation(got.Database); err != nil {
			return nil, err
		}
	}
	change, err := tagDatabase(ctx, d.LF, d.Retry, d.Name, d.Tag, created)
	if change != "" {
		changes = append(changes, change)
	}
	return changes, err
}

func (d *EnsureDatabase) checkLocation(db *gluetypes.Database) error {
	var have string
	if db != nil {
		have = aws.ToString(db.LocationUri)
	}
	if strings.TrimSuffix(have, "/") == strings.TrimSuffix(d.LocationURI, "/") {
		return nil
	}
	if have == "" {
		have = "(no location)"
	}
	return permanent("glue:GetDatabase",
		fmt.Errorf("database %s exists at %s, but lakeforge keeps it at %s", d.Name, have, d.LocationURI),
		fmt.Sprintf("set database.name in cdk.json to a database lakeforge may own, or move the existing database's location to %s (aws glue update-database) if its tables belong in the lake", d.LocationURI))
}
