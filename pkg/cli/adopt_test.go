package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/adopt"
	"github.com/lakeforge/lakeforge/pkg/adopt/manualbuild"
)

// seedContext bounds the manual build's fifty-odd requests, more than the
// fixture's 30 s allow on a loaded machine.
func seedContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// lakeforge adopt is a dry run unless --apply, prints JSON with --output
// json, and reads the analyst role from the deployed stack's outputs.
func TestAdoptCommandDryRunThenApply(t *testing.T) {
	testtier.External(t, "moto")
	f := newFixture(t, nil)
	f.deployStack()
	ctx := seedContext(t)
	if _, err := manualbuild.Seed(ctx, f.moto.Config(), manualbuild.Options{Account: motoserver.AccountID, Database: "kthr01", Bucket: "blog-lake", Prefix: "kthr01/",
		Tables: map[string][]manualbuild.Column{"workflow_kthr01_products": {{Name: "id", Type: "int"}}}}); err != nil {
		t.Fatal(err)
	}
	trigger := func() gluetypes.TriggerState {
		out, err := glue.NewFromConfig(f.moto.Config()).GetTrigger(ctx, &glue.GetTriggerInput{Name: aws.String(manualbuild.StartTrigger)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Trigger.State
	}
	out, errOut, code := f.cli("adopt", "--output", "json")
	var rep adopt.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK {
		t.Fatalf("adopt --output json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if rep.Apply || rep.NothingToDo || trigger() != gluetypes.TriggerStateActivated {
		t.Fatalf("the dry run: apply=%v nothingToDo=%v trigger %s", rep.Apply, rep.NothingToDo, trigger())
	}
	out, errOut, code = f.cli("adopt", "--apply")
	if code != ExitOK || !strings.Contains(out, "done change trigger    "+manualbuild.StartTrigger) {
		t.Fatalf("adopt --apply: exit %d\n%s%s", code, out, errOut)
	}
	if trigger() != gluetypes.TriggerStateDeactivated {
		t.Fatalf("trigger %s after --apply", trigger())
	}
}
