package demo

// The import of the demo: the real job script on local Spark (lake.py),
// its Glue job state-change event, and the analyst's queries on the lake.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/pkg/cli"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// importThenEvent is what Glue and EventBridge do for a workflow run: the
// real import job runs (on local Spark), then its Glue Job State Change
// event goes to the import-events handler, as the ImportJobEnded rule
// delivers it; that handler releases the waiting state.
func (d *demo) importThenEvent(ctx context.Context, si *standIns, cfg config.Config, lake *lakeProc, runID, work, user, pass string) {
	job, err := d.tpl.importJob()
	if err != nil {
		d.say("import: %v", err)
		return
	}
	jobRunID := "jr_demo_" + runID
	si.jobStarted(runID, d.tpl.Name(job), jobRunID)
	ierr := d.runImport(ctx, d.aws, d.tpl, cfg, lake, runID, jobRunID, work, user, pass)
	si.jobEnded(runID, ierr)
	ev := GlueJobEvent(d.tpl.Name(job), jobRunID, ierr, time.Now())
	d.say("stand-in EventBridge: the rule ImportJobEnded delivers Glue Job State Change (state %s, jobRunId %s) to the import-events handler", ev.state, jobRunID)
	out, err := d.invoke(ctx, stepcontract.ImportEvents, ev.raw)
	b, _ := json.Marshal(out)
	if err != nil {
		d.say("import-events FAILED: %v", err)
		return
	}
	d.say("import-events answered %s", b)
}

// glueEvent is one EventBridge event and its detail's state.
type glueEvent struct {
	raw   json.RawMessage
	state string
}

// GlueJobEvent is the Glue Job State Change event of a job run's end, in
// the shape Glue documents ("Automating AWS Glue with EventBridge"):
// detail {jobName, severity, state, jobRunId, message}.
func GlueJobEvent(job, jobRunID string, jobErr error, at time.Time) glueEvent {
	state, message := "SUCCEEDED", "Job run succeeded"
	if jobErr != nil {
		state, message = "FAILED", jobErr.Error()
	}
	ev := importrun.JobStateChangeEvent{ID: fmt.Sprintf("demo-%d", at.UnixNano()), Account: Account, Region: Region, Time: at,
		JobName: job, JobRunID: jobRunID, State: state, Message: message}
	return glueEvent{raw: ev.JSON(), state: state}
}

func (d *demo) handshake(ctx context.Context, cfg config.Config, user, pass string) error {
	r := preflight.HandshakeWith(ctx, cli.PreflightTarget(cfg), preflight.Credentials{Username: user, Password: pass},
		preflight.HandshakeOptions{Timeout: preflight.DefaultHandshakeTimeout, CABundleFile: d.opts.CABundle})
	if r.Kind != preflight.HandshakeOK {
		return fmt.Errorf("%s", r.Message)
	}
	return nil
}

// runImport runs the real job for a workflow run with the template's job
// arguments and connection, then puts its manifest where the job's
// runs_path names it in moto's S3.
func (d *demo) runImport(ctx context.Context, c aws.Config, tpl *template, cfg config.Config, lake *lakeProc, runID, jobRunID, work, user, pass string) error {
	job, err := tpl.importJob()
	if err != nil {
		return err
	}
	args := map[string]string{}
	da, _ := tpl.Props(job)["DefaultArguments"].(map[string]any)
	for k, v := range da {
		s, err := tpl.Resolve(v)
		if err != nil {
			return fmt.Errorf("job argument %s: %w", k, err)
		}
		args[k] = s
	}
	workflow := cfg.Names().Workflow
	args["--JOB_NAME"], args["--WORKFLOW_NAME"], args["--WORKFLOW_RUN_ID"], args["--JOB_RUN_ID"] = tpl.Name(job), workflow, runID, jobRunID
	conn := map[string]any{"name": cfg.Names().Connection}
	for _, id := range tpl.ByType("AWS::Glue::Connection") {
		ci, _ := tpl.Props(id)["ConnectionInput"].(map[string]any)
		props := map[string]string{}
		cp, _ := ci["ConnectionProperties"].(map[string]any)
		for k, v := range cp {
			props[k], _ = tpl.Resolve(v)
		}
		conn = map[string]any{"name": tpl.Name(id), "ConnectionProperties": props}
	}
	d.say("import job %s starting on local Spark for workflow run %s (the job's DefaultArguments from the template)", tpl.Name(job), runID)
	res, err := lake.call(map[string]any{"cmd": "import", "arguments": args, "connection": conn,
		"secret": map[string]string{"username": user, "password": pass}, "warehouse": filepath.Join(work, "warehouse"),
		// The adopt step converts the tables a blueprint left in moto's Glue catalog.
		"catalog": true})
	if err != nil {
		d.say("import job FAILED: %v", err)
		return err
	}
	var out struct {
		Manifest     json.RawMessage `json:"manifest"`
		ManifestFile string          `json:"manifestFile"`
	}
	_ = json.Unmarshal(res, &out)
	body, err := os.ReadFile(out.ManifestFile)
	if err != nil {
		return err
	}
	u, err := url.Parse(args["--runs_path"])
	if err != nil || u.Scheme != "s3" {
		return fmt.Errorf("job argument --runs_path %q is not an s3:// URI", args["--runs_path"])
	}
	key := strings.TrimPrefix(u.Path, "/") + runID + "/manifest.json"
	if _, err := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(u.Host), Key: aws.String(key), Body: strings.NewReader(string(body))}); err != nil {
		return err
	}
	d.say("import job done; its manifest is at s3://%s/%s (moto)", u.Host, key)
	return nil
}

// lakeProc is the Python process with the Spark session (lake.py).
type lakeProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
	mu  sync.Mutex
}

// startLake starts lake.py; Spark's and the job's own log go to log.
func startLake(ctx context.Context, o Options, work string, log io.Writer) (*lakeProc, error) {
	py := o.Python
	if py == "" {
		py = "python3"
	}
	cmd := exec.Command(py, filepath.Join(o.Root, "pkg", "demo", "lake.py"))
	cmd.Dir = o.Root
	cmd.Stderr = log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s pkg/demo/lake.py: %w", py, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	return &lakeProc{cmd: cmd, in: in, out: sc}, nil
}

func (l *lakeProc) call(req any) (json.RawMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := l.in.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	if !l.out.Scan() {
		return nil, fmt.Errorf("the Spark process ended: %v (its log is in the demo's log file)", l.out.Err())
	}
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	raw := append(json.RawMessage(nil), l.out.Bytes()...)
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, err
	}
	if !res.OK {
		return nil, errors.New(res.Error)
	}
	return raw, nil
}

// SQL runs one Spark SQL statement on the lake.
func (l *lakeProc) SQL(sql string) ([]string, [][]string, error) {
	raw, err := l.call(map[string]any{"cmd": "sql", "sql": sql})
	if err != nil {
		return nil, nil, err
	}
	var res struct {
		Columns []string   `json:"columns"`
		Rows    [][]string `json:"rows"`
	}
	err = json.Unmarshal(raw, &res)
	return res.Columns, res.Rows, err
}

func (l *lakeProc) Close() {
	_ = l.in.Close()
	done := make(chan struct{})
	go func() { _ = l.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = l.cmd.Process.Kill()
	}
}
