package demo

// The demo's look at column security: what the grants give the analyst
// (lakeforge access), and who enforces it. Nothing enforces Lake Formation
// on this machine: moto keeps grants and tags and evaluates none, and the
// local Spark lake is read directly. So the demo shows the evaluation and
// says where the enforcement happens instead of pretending to enforce.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/cli"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// EnforcementNote is what the demo says after `lakeforge access`, in lines
// that fit a 120-column terminal.
const EnforcementNote = "Column security: the lines above are what the grants give by Lake Formation's documented rules, not an\n" +
	"enforcement. On this machine nothing enforces Lake Formation (moto keeps grants and tags and evaluates none; the local\n" +
	"lake is read directly). On AWS Lake Formation enforces them, and with governance.enabled VerifyQuery proves it as the\n" +
	"analyst every run (docs/governance.md)."

// showAccess registers the lake's tables in moto's Glue catalog, as
// Iceberg's Glue catalog does on AWS (the local job writes a Hadoop
// catalog), prints `lakeforge access` for the analyst, and the note.
func (d *demo) showAccess(ctx context.Context, c aws.Config, cfg config.Config, lake *lakeProc, cfgFile string) error {
	_, tables, err := lake.SQL(fmt.Sprintf("SHOW TABLES IN glue_catalog.`%s`", cfg.Database.Name))
	if err != nil {
		return err
	}
	g := glue.NewFromConfig(c)
	for _, row := range tables {
		name := row[1]
		_, cols, err := lake.SQL(fmt.Sprintf("DESCRIBE TABLE glue_catalog.`%s`.`%s`", cfg.Database.Name, name))
		if err != nil {
			return err
		}
		in := &gluetypes.TableInput{Name: aws.String(name), TableType: aws.String("EXTERNAL_TABLE"), Parameters: map[string]string{"table_type": "ICEBERG"},
			StorageDescriptor: &gluetypes.StorageDescriptor{}}
		for _, col := range cols {
			if len(col) < 2 || col[0] == "" || strings.HasPrefix(col[0], "#") {
				break // the partitioning section follows the columns
			}
			in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, gluetypes.Column{Name: aws.String(col[0]), Type: aws.String(col[1]),
				Parameters: map[string]string{"iceberg.field.current": "true"}})
		}
		if _, err := g.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(cfg.Database.Name), TableInput: in}); err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
			return err
		}
	}
	d.say("stand-in Glue Data Catalog tables: the %d lake table(s) registered in moto's Glue with their columns, as Iceberg's Glue catalog does on AWS", len(tables))
	analyst, err := d.tpl.Output(stepcontract.OutputAnalystRoleArn)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	code := cli.Main(ctx, []string{"--config", cfgFile, "access", "--principal", analyst, "--table", "products"},
		cli.Env{Stdout: &out, Stderr: &out, Clients: cli.DefaultClients})
	d.screen.printWrapped(fmt.Sprintf("\nWhat the grants give the analyst:\n$ lakeforge access --principal %s --table products\n%s\n%s",
		analyst, strings.TrimRight(out.String(), "\n"), EnforcementNote))
	if code != cli.ExitOK {
		return fmt.Errorf("lakeforge access failed (exit %d)", code)
	}
	return nil
}

// resourceLFTags answers lakeformation:GetResourceLFTags through moto, and
// a table read moto fails (HTTP 500 for a table without table-level tags)
// as Lake Formation does: no table tags.
func (s *standIns) resourceLFTags(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := &recorder{header: http.Header{}}
	s.proxy.ServeHTTP(rec, r)
	var in struct {
		Resource struct {
			Table *json.RawMessage `json:"Table"`
		} `json:"Resource"`
	}
	_ = json.Unmarshal(body, &in)
	if rec.code == http.StatusInternalServerError && in.Resource.Table != nil {
		s.log("stand-in lakeformation:GetResourceLFTags on a table without table-level tags: moto 5.2.5 answers HTTP 500; answered as Lake Formation does (no table tags)")
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	w.WriteHeader(rec.code)
	_, _ = w.Write(rec.body.Bytes())
}
