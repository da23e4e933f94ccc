package lakeformation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// EnsureDatabase converges the Glue database the import job writes its
// tables to, at the lake prefix. It is created when missing and tagged with
// the workflow tag, which gives the workflow role its Lake Formation grants
// on it and on its tables (tables inherit database tags). It is created
// here, as a data lake administrator, rather than by CloudFormation: once
// Lake Formation is configured, CloudFormation's role has no
// CREATE_DATABASE, and a database created without IAM_ALLOWED_PRINCIPALS
// gives the job no permission.
//
// A database of that name at another location is an error. (The job
// discovers the source tables over JDBC, so no source catalog database is
// needed.)
type EnsureDatabase struct {
	Glue  DatabaseAPI
	LF    ResourceTagsAPI
	Retry awsretry.Policy
	// Name is the lake database.
	Name string
	// LocationURI is "s3://bucket/prefix", the lake database's location.
	LocationURI string
	Tag         stepcontract.TagRef
}

// descriptionPrefix starts the description of every database lakeforge
// creates: the record that an earlier deployment made it.
const descriptionPrefix = "lakeforge: "

// s3Bucket is the bucket of an s3:// URI.
func s3Bucket(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", false
	}
	bucket, _, _ := strings.Cut(rest, "/")
	return bucket, bucket != ""
}

// catalogDatabase is one database EnsureDatabase converges.
type catalogDatabase struct {
	name string
	// location is where to create the database and where an existing one
	// must point.
	location    string
	description string
}

func (d *EnsureDatabase) Run(ctx context.Context) ([]string, error) {
	return d.ensure(ctx, catalogDatabase{name: d.Name, location: d.LocationURI, description: descriptionPrefix + "tables imported from the source database"})
}

// ensure creates db when it is missing, checks the location of an existing
// one, and tags it.
func (d *EnsureDatabase) ensure(ctx context.Context, db catalogDatabase) ([]string, error) {
	var changes []string
	created := false
	got, err := d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db.name)})
	switch {
	case awsretry.IsCode(err, "EntityNotFoundException"):
		// No default table permissions: without the field, Glue applies
		// the account's default (ALL to IAM_ALLOWED_PRINCIPALS on a fresh
		// account, or with accountSettings "leave"), and the new tables
		// would not be governed by the LF-tag grants.
		input := &gluetypes.DatabaseInput{Name: aws.String(db.name), Description: aws.String(db.description), LocationUri: aws.String(db.location),
			CreateTableDefaultPermissions: []gluetypes.PrincipalPermissions{}}
		err := d.Retry.Do(ctx, "glue:CreateDatabase", func(ctx context.Context) error {
			_, err := d.Glue.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: input})
			return err
		})
		if awsretry.IsCode(err, "AlreadyExistsException") {
			// Created since the read: check it like any existing database.
			if got, err = d.Glue.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db.name)}); err != nil {
				return nil, fail("glue:GetDatabase", "database "+db.name, err)
			}
			if err := checkLocation(db, got.Database); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, fail("glue:CreateDatabase", "database "+db.name, err)
		} else {
			created = true
			changes = append(changes, "created database "+db.name+" at "+db.location)
		}
	case err != nil:
		return nil, fail("glue:GetDatabase", "database "+db.name, err)
	default:
		if err := checkLocation(db, got.Database); err != nil {
			return nil, err
		}
	}
	change, err := tagDatabase(ctx, d.LF, d.Retry, db.name, d.Tag, created)
	if change != "" {
		changes = append(changes, change)
	}
	return changes, err
}

func checkLocation(want catalogDatabase, db *gluetypes.Database) error {
	var have string
	if db != nil {
		have = aws.ToString(db.LocationUri)
	}
	if strings.TrimSuffix(have, "/") == strings.TrimSuffix(want.location, "/") {
		return nil
	}
	if have == "" {
		have = "(no location)"
	}
	if db != nil && strings.HasPrefix(aws.ToString(db.Description), descriptionPrefix) {
		if bucket, ok := s3Bucket(have); ok {
			// A destroyed deployment kept its bucket and this database;
			// the new deployment has another bucket. Moving the database
			// would leave its tables pointing at the old bucket, so the
			// user chooses.
			return permanent("glue:GetDatabase",
				fmt.Errorf("database %s was created by an earlier lakeforge deployment at %s (the lake bucket %s that `make destroy` kept), but this deployment's lake is %s", want.name, have, bucket, want.location),
				fmt.Sprintf("to keep the imported data, set lake.existingBucketName to %q (and remove lake.bucketName) in the configuration and `make deploy`, so the stack adopts the kept bucket; to start over instead, remove only the catalog entry (the data stays in s3://%s): `aws glue delete-database --name %s`, then start the state machine again", bucket, bucket, want.name))
		}
	}
	return permanent("glue:GetDatabase",
		fmt.Errorf("database %s exists at %s, but lakeforge keeps it at %s", want.name, have, want.location),
		fmt.Sprintf("set database.name in cdk.json to a database lakeforge may own, or move the existing database's location to %s (aws glue update-database) if its tables belong in the lake", want.location))
}
