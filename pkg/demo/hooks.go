package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/lakeforge/lakeforge/pkg/cli"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// What a test may do around the demo's run (the migration test of
// docs/migration.md): change the configuration, build state on the
// account, write Parquet as the blueprint's job does, and look at the
// account and the lake afterwards.

// Hooks let a test change the configuration, build state on the demo's
// account before the run, and look at it after.
type Hooks struct {
	// Config edits the configuration before the template is synthesized.
	Config func(*config.Config)
	// BeforeRun runs once the stack's resources exist on moto and Spark is
	// up, before the daily run starts.
	BeforeRun func(context.Context, *Session) error
	// AfterRun runs after the run and the analyst's queries.
	AfterRun func(context.Context, *Session) error
}

// Session is the demo's account and lake, for the hooks.
type Session struct {
	AWS        aws.Config
	Config     config.Config
	ConfigFile string
	// Warehouse is the local directory that stands for S3 (s3://b/k is
	// Warehouse/s3/b/k).
	Warehouse string
	lake      *lakeProc
	tpl       *template
	pg        *url.URL
}

// SQL runs one Spark SQL statement on the local lake.
func (a *Session) SQL(sql string) ([]string, [][]string, error) { return a.lake.SQL(sql) }

// Output is one of the template's outputs (for example AnalystRoleArn).
func (a *Session) Output(name string) (string, error) { return a.tpl.Output(name) }

// CLI runs the lakeforge CLI with the demo's configuration file.
func (a *Session) CLI(ctx context.Context, args ...string) (string, int) {
	var out strings.Builder
	code := cli.Main(ctx, append([]string{"--config", a.ConfigFile}, args...), cli.Env{Stdout: &out, Stderr: &out, Clients: cli.DefaultClients})
	return out.String(), code
}

// BlueprintTable is one table the blueprint's job writes: the source
// table (schema.table) read over JDBC, written as Parquet at Location.
type BlueprintTable struct {
	Source   string `json:"source"`
	Location string `json:"location"`
}

// BlueprintColumn is a column of a written Parquet table (Hive type name).
type BlueprintColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// WriteBlueprintParquet writes the tables with Spark as the blueprint's
// Glue job does: a plain JDBC read of the source, column names with the
// characters the Spark Parquet writer rejects replaced by "_", Parquet
// files at each location. It returns each table's columns and row count.
func (a *Session) WriteBlueprintParquet(tables []BlueprintTable) (map[string][]BlueprintColumn, map[string]int64, error) {
	job, err := a.tpl.importJob()
	if err != nil {
		return nil, nil, err
	}
	args := map[string]string{}
	da, _ := a.tpl.Props(job)["DefaultArguments"].(map[string]any)
	for k, v := range da {
		if args[k], err = a.tpl.Resolve(v); err != nil {
			return nil, nil, err
		}
	}
	pass, _ := a.pg.User.Password()
	port := a.pg.Port()
	raw, err := a.lake.call(map[string]any{"cmd": "blueprint", "arguments": args, "warehouse": a.Warehouse, "tables": tables,
		"jdbc": map[string]string{"url": fmt.Sprintf("jdbc:postgresql://%s:%s/%s?sslmode=require", a.pg.Hostname(), port, strings.TrimPrefix(a.pg.Path, "/")),
			"user": a.pg.User.Username(), "password": pass}})
	if err != nil {
		return nil, nil, err
	}
	var res struct {
		Columns map[string][]BlueprintColumn `json:"columns"`
		Rows    map[string]int64             `json:"rows"`
	}
	err = json.Unmarshal(raw, &res)
	return res.Columns, res.Rows, err
}
