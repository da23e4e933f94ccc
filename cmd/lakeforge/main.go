// Command lakeforge operates a deployed lakeforge stack: run, status,
// doctor and preflight (docs/cli.md). The logic is in
// pkg/cli; main only wires the process and the SDK's default configuration.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/lakeforge/lakeforge/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], cli.Env{
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Terminal: isTerminal(os.Stdout),
		Clients:  cli.DefaultClients,
	})
	stop()
	os.Exit(code)
}

// isTerminal says whether f is a character device (a terminal), not a pipe
// or a file: progress bars then, plain lines otherwise.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
