package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	lftypes "github.com/aws/aws-sdk-go-v2/service/lakeformation/types"

	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/adopt/manualbuild"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
)

// Issue 21 item 5: the blog's manual build on moto (groups, the user's
// grants, tags, the registered bucket, the database, the blueprint's
// workflow with its scheduled trigger, crawlers and job) with Parquet
// tables written by Spark as the blueprint writes them; then `lakeforge
// adopt --apply` and the whole daily run of `make demo` leave the trigger
// stopped, the same table names as Iceberg with every row, the analyst
// role's grants in place (VerifyQuery queried as the analyst), the
// Parquet files untouched, and a second `adopt` with nothing to do.
//
// moto's Lake Formation keeps grants and tags apart from the Glue catalog
// (it never checks that a resource exists), so that grants and tags stay
// attached to a table across glue:UpdateTable rests on the documents
// (docs/aws-behaviour.md); moto's Glue has no workflow runs, so the
// blueprint's workflow is never run here, only its trigger's state read.
func TestMigrationFromTheManualBuild(t *testing.T) {
	testtier.External(t, "PostgreSQL, moto, Node and Spark")
	dsn, ca := os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"), os.Getenv("LAKEFORGE_TEST_DB_CA")
	if dsn == "" || ca == "" {
		t.Fatal("LAKEFORGE_TEST_POSTGRES_DSN / LAKEFORGE_TEST_DB_CA are not set: run through `scripts/test-databases.sh run go test ./pkg/demo/`")
	}
	restoreAWSEnv(t)
	const bucket, db = "blog-lake", "kthr01"
	blueprintTables := map[string]string{"workflow_kthr01_products": "kthr01.products", "workflow_kthr01_mixedcase": `kthr01."MixedCase"`}
	parquetRows := map[string]int64{}
	location := func(name string) string { return fmt.Sprintf("s3://%s/%s/%s/", bucket, db, name) }
	var firstAdopt adopt.Report

	hooks := &Hooks{
		Config: func(c *config.Config) {
			// What the first `lakeforge adopt` asks for: the groups adopted,
			// the blueprint's prefix readable by the import job.
			c.Personas.Admins.AdoptGroup, c.Personas.Analysts.AdoptGroup = true, true
			c.Import.AdoptLocations = []string{"s3://" + bucket + "/" + db + "/"}
		},
		BeforeRun: func(ctx context.Context, s *Session) error {
			var tables []BlueprintTable
			for name, src := range blueprintTables {
				tables = append(tables, BlueprintTable{Source: src, Location: location(name)})
			}
			cols, rows, err := s.WriteBlueprintParquet(tables)
			if err != nil {
				return fmt.Errorf("the blueprint's Parquet: %w", err)
			}
			opts := manualbuild.Options{Account: Account, Database: db, Bucket: bucket, Prefix: db + "/", Tables: map[string][]manualbuild.Column{}}
			for name := range blueprintTables {
				for _, c := range cols[location(name)] {
					opts.Tables[name] = append(opts.Tables[name], manualbuild.Column{Name: strings.ToLower(c.Name), Type: c.Type})
				}
				parquetRows[name] = rows[location(name)]
				if parquetRows[name] == 0 {
					return fmt.Errorf("the blueprint wrote no rows for %s", name)
				}
			}
			if _, err := manualbuild.Seed(ctx, s.AWS, opts); err != nil {
				return fmt.Errorf("the manual build: %w", err)
			}
			out, code := s.CLI(ctx, "adopt", "--apply", "--output", "json")
			if code != 0 {
				return fmt.Errorf("lakeforge adopt --apply: exit %d\n%s", code, out)
			}
			return json.Unmarshal([]byte(out), &firstAdopt)
		},
		AfterRun: func(ctx context.Context, s *Session) error {
			g := glue.NewFromConfig(s.AWS)
			tr, err := g.GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String(manualbuild.StartTrigger)})
			if err != nil {
				return err
			}
			if tr.Trigger.State != gluetypes.TriggerStateDeactivated {
				t.Errorf("the blueprint's trigger is %s after the migration", tr.Trigger.State)
			}
			for name, rows := range parquetRows {
				tb, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(db), Name: aws.String(name)})
				if err != nil {
					return err
				}
				if adopt.Format(*tb.Table) != "iceberg" || tb.Table.Parameters[adopt.ConvertedFromParam] != "parquet" {
					t.Errorf("%s in the catalog: %v", name, tb.Table.Parameters)
				}
				ident := "glue_catalog." + db + "." + name
				// Every Parquet row is in the converted table's first snapshot
				// (time travel), and still in the Parquet files.
				_, snaps, err := s.SQL("SELECT snapshot_id FROM " + ident + ".snapshots ORDER BY committed_at LIMIT 1")
				if err != nil || len(snaps) != 1 {
					return fmt.Errorf("%s snapshots: %v %v", name, snaps, err)
				}
				parquet := "parquet.`" + storagePath(s, location(name)) + "`"
				for what, sql := range map[string]string{
					"rows in the first snapshot": "SELECT COUNT(*) FROM " + ident + " VERSION AS OF " + snaps[0][0],
					"rows in the Parquet files":  "SELECT COUNT(*) FROM " + parquet,
					"Parquet rows missing from the first snapshot": "SELECT COUNT(*) FROM (SELECT * FROM " + parquet +
						" EXCEPT SELECT * FROM " + ident + " VERSION AS OF " + snaps[0][0] + ")",
				} {
					_, got, err := s.SQL(sql)
					if err != nil {
						return fmt.Errorf("%s: %s: %w", name, sql, err)
					}
					want := strconv.FormatInt(rows, 10)
					if strings.HasPrefix(what, "Parquet rows missing") {
						want = "0"
					}
					if got[0][0] != want {
						t.Errorf("%s: %s = %s, want %s", name, what, got[0][0], want)
					}
					t.Logf("%s: %s = %s", name, what, got[0][0])
				}
			}
			// The analyst role holds SELECT on the tables tagged
			// source=product, and the blog's grant to datalake_user stays.
			analyst, err := s.Output("AnalystRoleArn")
			if err != nil {
				return err
			}
			holders := map[string][]string{}
			out, err := lf.NewFromConfig(s.AWS).ListPermissions(ctx, &lf.ListPermissionsInput{})
			if err != nil {
				return err
			}
			for _, p := range out.PrincipalResourcePermissions {
				if r := p.Resource.LFTagPolicy; r != nil && r.ResourceType == lftypes.ResourceTypeTable && aws.ToString(r.Expression[0].TagKey) == "source" {
					who := aws.ToString(p.Principal.DataLakePrincipalIdentifier)
					for _, perm := range p.Permissions {
						holders[who] = append(holders[who], string(perm))
					}
				}
			}
			for _, who := range []string{analyst, "arn:aws:iam::" + Account + ":user/" + manualbuild.AnalystUser} {
				if !slices.Contains(holders[who], "SELECT") {
					t.Errorf("%s does not hold SELECT on tables tagged source=product: %v", who, holders)
				}
			}
			// The second adopt has nothing to do.
			text, code := s.CLI(ctx, "adopt", "--output", "json")
			var again adopt.Report
			if err := json.Unmarshal([]byte(text), &again); err != nil || code != 0 {
				return fmt.Errorf("the second adopt: exit %d %v\n%s", code, err, text)
			}
			if !again.NothingToDo {
				var b strings.Builder
				again.Print(&b)
				t.Errorf("the second adopt still has work:\n%s", b.String())
			}
			return nil
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, Options{Out: &out, Root: localsfn.RepoRoot(), PostgresDSN: dsn, CABundle: ca, Python: os.Getenv("LAKEFORGE_PYTHON"), Hooks: hooks})
	text := out.String()
	if err != nil {
		t.Fatalf("the migration failed: %v\n%s", err, text)
	}
	// --apply stopped the trigger and marked both tables.
	done := map[string]bool{}
	for _, it := range firstAdopt.Items {
		if it.Applied {
			done[it.Kind+" "+it.Name] = true
		}
	}
	for _, want := range []string{"trigger " + manualbuild.StartTrigger, "table kthr01.workflow_kthr01_products", "table kthr01.workflow_kthr01_mixedcase"} {
		if !done[want] {
			t.Errorf("adopt --apply did not do %s: %+v", want, firstAdopt.Items)
		}
	}
	if !strings.Contains(text, "run ") || !strings.Contains(text, "SUCCEEDED") {
		t.Errorf("the run did not succeed:\n%s", text)
	}
}

// storagePath is the local path that stands for an s3:// URI.
func storagePath(s *Session, uri string) string {
	return s.Warehouse + "/s3/" + strings.TrimPrefix(uri, "s3://")
}

// restoreAWSEnv puts back the AWS settings Run changes, unset when they
// were (moto fails on an empty AWS_DEFAULT_REGION, so t.Setenv's empty value
// would not do).
func restoreAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SFN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"} {
		v, set := os.LookupEnv(k)
		t.Cleanup(func() {
			if set {
				os.Setenv(k, v)
			} else {
				os.Unsetenv(k)
			}
		})
	}
}
