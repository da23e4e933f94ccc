package importrun

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// importer reads the settings StartImport and GetImportStatus share and
// builds their Glue client: what both main.go files run at cold start.
func importer(s *steprun.Step) (*Importer, error) {
	workflow := s.Env.String(stepcontract.EnvWorkflowName)
	timeout := s.Env.Int(stepcontract.EnvWaitTimeoutMinutes)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	return &Importer{
		Glue:     glue.NewFromConfig(cfg),
		Workflow: workflow,
		Schedule: NewSchedule(time.Duration(timeout) * time.Minute),
		Log:      s.Log,
	}, nil
}

// WireStartImport wires start-import.
func WireStartImport(s *steprun.Step) (steprun.Handler, error) {
	im, err := importer(s)
	if err != nil {
		return nil, err
	}
	return steprun.Typed(s.Name, im.Start), nil
}

// WireGetImportStatus wires get-import-status.
func WireGetImportStatus(s *steprun.Step) (steprun.Handler, error) {
	im, err := importer(s)
	if err != nil {
		return nil, err
	}
	return steprun.Typed(s.Name, im.Status), nil
}
