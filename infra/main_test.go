package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/config"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// A bad value in the context stops the app before any construct is made,
// with the field's path in the message.
func TestBadConfigurationStopsSynthBeforeAnyConstruct(t *testing.T) {
	ctx := map[string]any{
		config.ContextKey: map[string]any{
			"database": map[string]any{"name": "Not-Valid"},
			"source":   map[string]any{"engine": "oracle"},
		},
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	err := build(app, t.TempDir())
	var probs *config.Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want configuration problems, got %v", err)
	}
	for _, path := range []string{"lakeforge.database.name", "lakeforge.source.engine", "lakeforge.source.secretArn", "lakeforge.network.subnetId"} {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("message lacks %s:\n%v", path, err)
		}
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Fatalf("app has %d children after a configuration error; want none", n)
	}
}
