// Command start-import is the StartImport step: it starts the Glue import
// workflow, or attaches to the run already in progress.
package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steplog"
)

func main() {
	log := steplog.New("start-import")
	env := lambdaenv.New()
	workflow := env.String("WORKFLOW_NAME")
	timeout := env.Int("WAIT_TIMEOUT_MINUTES")
	if err := env.Err(); err != nil {
		// Every invocation answers ConfigError, which the state machine
		// reports, instead of a crash loop it could only call Unknown.
		log.Error("bad environment", "error", err)
		lambda.Start(func(context.Context, json.RawMessage) (struct{}, error) { return struct{}{}, err })
		return
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	im := &importrun.Importer{
		Glue:     glue.NewFromConfig(cfg),
		Workflow: workflow,
		Schedule: importrun.NewSchedule(time.Duration(timeout) * time.Minute),
		Log:      log,
	}
	lambda.Start(func(ctx context.Context, in importrun.StartInput) (importrun.Run, error) {
		out, err := im.Start(ctx, in)
		return out, steperr.Normalize("start-import", err)
	})
}
