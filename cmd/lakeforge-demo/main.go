// Command lakeforge-demo is `make demo`: the whole daily run on this
// machine, without an AWS account (pkg/demo says what stands in for AWS).
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/lakeforge/lakeforge/pkg/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	root, _ := os.Getwd()
	code := demo.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, demo.Options{
		Root:        root,
		PostgresDSN: os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"),
		CABundle:    os.Getenv("LAKEFORGE_TEST_DB_CA"),
		Python:      os.Getenv("LAKEFORGE_PYTHON"),
	})
	stop()
	os.Exit(code)
}
