// Command lakeforge-demo is `make demo`: the whole daily run on this
// machine, without an AWS account (pkg/demo says what stands in for AWS).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/lakeforge/lakeforge/pkg/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	root, _ := os.Getwd()
	st, _ := os.Stdout.Stat()
	err := demo.Run(ctx, demo.Options{
		Out:         os.Stdout,
		Terminal:    st != nil && st.Mode()&os.ModeCharDevice != 0,
		Root:        root,
		PostgresDSN: os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN"),
		CABundle:    os.Getenv("LAKEFORGE_TEST_DB_CA"),
		Python:      os.Getenv("LAKEFORGE_PYTHON"),
	})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}
