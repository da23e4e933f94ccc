package demo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/creack/pty"
)

// Main is cmd/lakeforge-demo: its flags, the terminal it writes to, and
// its exit status (0 the run succeeded, 1 it did not, 2 bad flags).
func Main(ctx context.Context, args []string, out *os.File, errOut io.Writer, opts Options) int {
	fs := flag.NewFlagSet("lakeforge-demo", flag.ContinueOnError)
	fs.SetOutput(errOut)
	standIns := fs.Bool("stand-ins", false, "print what runs for real and what stands in for AWS, and exit")
	verbose := fs.Bool("verbose", false, "show the log (the step handlers' JSON logs, the stand-ins' answers, Spark) on the terminal too")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errOut, "lakeforge-demo: unexpected argument %q. Fix: flags only (--stand-ins, --verbose)\n", fs.Arg(0))
		return 2
	}
	if *standIns {
		fmt.Fprint(out, StandIns)
		return 0
	}
	opts.Out, opts.Verbose = out, *verbose
	if st, err := out.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		opts.Terminal = true
		if _, cols, err := pty.Getsize(out); err == nil && cols > 0 {
			opts.Width = cols
		}
	}
	if err := Run(ctx, opts); err != nil {
		fmt.Fprintln(errOut, "demo failed:", err)
		return 1
	}
	return 0
}
