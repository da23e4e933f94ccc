// Package demo is `make demo`: the whole daily run on this machine, with no
// AWS account. The real pipeline (statemachine/pipeline.asl.json, executed
// by aws-local-stepfunctions), the project's own Go step handlers wired with
// the environment of the synthesized template, the real import job on local
// Spark reading a local PostgreSQL with the blog's kthr01 data, and the
// analyst's two queries on the lake it wrote. moto answers the AWS APIs;
// what moto cannot do is done locally and named as a stand-in.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/lakeforge/lakeforge/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/cli"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/pkg/steps"
	"github.com/lakeforge/lakeforge/pkg/verify"
)

// StandIns is what the demo says, once at its start (and alone with
// --stand-ins), about what is real. Lines fit a 120-column terminal.
const StandIns = `What runs for real, and what stands in for AWS:
  real      the state machine (statemachine/pipeline.asl.json with the template's DefinitionSubstitutions),
            executed by aws-local-stepfunctions
  real      the project's Go step handlers, each wired with the environment of the synthesized CDK template
  real      the callback wait: start-import keeps the task token in the token table, import-events releases it
            with SendTaskSuccess or SendTaskFailure
  real      the PySpark import job (infra/glue/import_job.py) on local Spark, reading a local PostgreSQL (kthr01)
  real      the lakeforge CLI following the run (lakeforge run --follow)
  stand-in  moto answers S3, IAM, STS, Lake Formation, Glue catalog, DynamoDB, Secrets Manager, EC2, SNS and
            CloudFormation
  stand-in  CloudFormation: the demo creates on moto the resources the steps use (buckets, roles, token table,
            connection, workflow, workgroup)
  stand-in  Step Functions API: pkg/internal/localsfn serves the executions and the task-token calls
            (Task states call the handlers in-process, not Lambda)
  stand-in  EventBridge: the demo hands the Glue Job State Change event (Glue's documented shape) to import-events
  stand-in  lakeformation:ListPermissions by LF-tag resource type: moto 5.2.5 rejects it; answered from moto's grants
  stand-in  cloudwatch:PutMetricData (VerifyQuery's metrics): moto 5.2.5 does not serve its CBOR protocol; accepted
  stand-in  glue:TestConnection: a direct database handshake from this machine (moto has none)
  stand-in  Glue workflow run: moto records it; the import job runs on local Spark (local_runtime.py for what only
            Glue has); glue:GetWorkflowRun reports the job's real result with the run's graph
  stand-in  S3 for the lake data: the job writes Iceberg tables to a local directory; its run manifest is copied
            to moto's S3 for VerifyQuery
  stand-in  Athena: VerifyQuery's and the analyst's SQL run as Spark SQL on that local lake
  stand-in  Lake Formation enforcement: none here; lakeforge access shows what the grants give, Lake Formation
            enforces it on AWS
`

// Options configure a demo run.
type Options struct {
	Out      io.Writer
	Terminal bool
	// Width is the terminal's columns; lines are cut to it (0: no limit).
	Width int
	// Verbose shows the log (narration, stand-ins, handler and Spark logs)
	// on Out too.
	Verbose bool
	// LogPath is the log file; default <Root>/.tmp/demo/lakeforge-demo.log.
	LogPath string
	// Root is the repository root (cdk.json, dist/, infra/glue).
	Root string
	// PostgresDSN is the local server's URL (scripts/test-databases.sh).
	PostgresDSN string
	// CABundle is the PEM file of the CA that signed the local server's
	// certificate (scripts/test-databases.sh makes one per run).
	CABundle string
	Python   string
	// Hooks act on the demo's account around the run (the migration test
	// of docs/migration.md); nil for `make demo`.
	Hooks *Hooks
}

type demo struct {
	opts    Options
	out     io.Writer
	screen  *screen
	log     *logFile
	start   time.Time
	cleanup []func()

	tpl   *template
	aws   aws.Config
	wired map[string]steprun.Handler // each step function, wired once
	wirMu sync.Mutex
	// handlerLog receives the step handlers' JSON records.
	handlerLog *slog.Logger
	// imports are the import jobs running, each with its Glue event.
	imports sync.WaitGroup

	// What the final screen shows.
	verified *verify.Output
	queries  []queryResult
	runTook  time.Duration
}

// say narrates into the log (and, with --verbose, onto the terminal).
func (d *demo) say(format string, args ...any) { d.log.say(format, args...) }

func (d *demo) defer_(f func()) { d.cleanup = append(d.cleanup, f) }

// phase runs one setup step as a line of the story: what it does while
// it runs, what it did (its result's words) when it ends.
func (d *demo) phase(doing string, f func() (string, error)) error {
	d.say("%s ...", doing)
	d.screen.begin(doing)
	t := time.Now()
	did, err := f()
	if did == "" {
		did = doing
	}
	d.screen.done(did, time.Since(t), err)
	if err != nil {
		d.say("%s: FAILED: %v", doing, err)
	} else {
		d.say("%s", did)
	}
	return err
}

// Run runs the demo and tears down everything it started. The screen ends
// with the analyst's queries, a one-line summary and the next steps.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.LogPath == "" {
		opts.LogPath = filepath.Join(opts.Root, ".tmp", "demo", "lakeforge-demo.log")
	}
	if err := os.MkdirAll(filepath.Dir(opts.LogPath), 0o755); err != nil {
		return err
	}
	f, err := os.Create(opts.LogPath)
	if err != nil {
		return err
	}
	defer f.Close()
	d := &demo{opts: opts, out: opts.Out, start: time.Now(),
		screen: &screen{out: opts.Out, terminal: opts.Terminal, width: opts.Width}}
	d.log = &logFile{w: f, start: d.start}
	if opts.Verbose {
		d.log.also = &liveSafe{s: d.screen}
	}
	d.handlerLog = slog.New(slog.NewJSONHandler(d.log, nil))
	logShown := relPath(opts.Root, opts.LogPath)
	d.screen.println("lakeforge demo: the daily pipeline on this machine, no AWS account, nothing beyond 127.0.0.1.\n\n" +
		StandIns + "\nThe step handlers' logs, each stand-in's answer and Spark's log (--verbose shows them here too):\n  " + logShown + "\n")

	err = d.run(ctx)
	for i := len(d.cleanup) - 1; i >= 0; i-- {
		d.cleanup[i]()
	}
	d.say("torn down: moto, the local Step Functions, the Spark process and the demo's files are gone")
	if err != nil {
		d.screen.println("\nThe logs of this run: " + logShown)
		return err
	}
	d.screen.done("torn down: moto, local Step Functions, Spark, the demo's files", 0, nil)
	d.finalScreen(logShown)
	return nil
}

// liveSafe writes log lines onto the terminal below the live line.
type liveSafe struct{ s *screen }

func (l *liveSafe) Write(p []byte) (int, error) {
	l.s.println(string(p))
	return len(p), nil
}

// relPath is path relative to the repository root when it is inside it.
func relPath(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return path
}

// finalScreen is the payoff: the analyst's two queries on the lake the run
// wrote, one line on what the run did and proved, and what to do next.
func (d *demo) finalScreen(logShown string) {
	var b strings.Builder
	b.WriteString("\nThe analyst's queries (Athena stands in: Spark SQL on the lake the run wrote):\n")
	for _, q := range d.queries {
		fmt.Fprintf(&b, "\nanalyst> %s\n%s", q.sql, table(q.cols, q.rows, d.opts.Width))
	}
	b.WriteString("\n" + d.summary() + "\n\n" + nextSteps(logShown))
	d.screen.println(b.String())
}

// summary is one line: the run's result, what it imported, what
// VerifyQuery checked as the analyst.
func (d *demo) summary() string {
	v := d.verified
	if v == nil {
		return fmt.Sprintf("✔ The daily run SUCCEEDED in %s.", round(d.runTook))
	}
	var rows int64
	ok := 0
	for _, t := range v.Tables {
		rows += t.Imported
		if t.OK {
			ok++
		}
	}
	return fmt.Sprintf("✔ The daily run SUCCEEDED in %s: %d tables, %s rows imported; verified as the analyst: counts match in %d of %d.",
		round(d.runTook), len(v.Tables), thousands(rows), ok, len(v.Tables))
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (d *demo) run(ctx context.Context) error {
	pg, err := url.Parse(d.opts.PostgresDSN)
	if err != nil || pg.Hostname() == "" {
		return errors.New("no local PostgreSQL: run the demo with `make demo` (scripts/test-databases.sh starts one and sets LAKEFORGE_TEST_POSTGRES_DSN)")
	}
	if d.opts.CABundle == "" {
		return errors.New("no CA bundle for the local PostgreSQL's certificate: run the demo with `make demo` (scripts/test-databases.sh makes one and sets LAKEFORGE_TEST_DB_CA)")
	}
	pgPass, _ := pg.User.Password()
	pgDB := strings.TrimPrefix(pg.Path, "/")
	work, err := os.MkdirTemp("", "lakeforge-demo-")
	if err != nil {
		return err
	}
	d.defer_(func() { _ = os.RemoveAll(work) })
	d.say("the demo's files are in %s", work)

	// 1. The source: the blog's kthr01 data in the local PostgreSQL.
	if err := d.phase("loading the blog's kthr01 data into PostgreSQL", func() (string, error) {
		psql := exec.CommandContext(ctx, "psql", fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=require", pg.Hostname(), pg.Port(), pg.User.Username(), pgDB),
			"-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "schema=kthr01", "-f", filepath.Join(d.opts.Root, "infra", "glue", "fixtures", "postgres.sql"))
		psql.Env = append(os.Environ(), "PGPASSWORD="+pgPass)
		if out, err := psql.CombinedOutput(); err != nil {
			return "", fmt.Errorf("load kthr01 into PostgreSQL: %v: %s", err, out)
		}
		return fmt.Sprintf("kthr01 data loaded into PostgreSQL %s:%s", pg.Hostname(), pg.Port()), nil
	}); err != nil {
		return err
	}

	// 2. moto and the stand-ins in front of it. The AWS settings are the
	// demo's before moto starts: moto inherits them, and the user's own
	// profile, region or credentials must reach neither moto nor the steps.
	for k, v := range map[string]string{"AWS_REGION": Region, "AWS_DEFAULT_REGION": Region,
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(work, "aws-config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(work, "aws-credentials")} {
		os.Setenv(k, v)
	}
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_PROFILE")
	var si *standIns
	var acfg aws.Config
	if err := d.phase("starting moto, the AWS API emulator", func() (string, error) {
		moto, err := motoserver.Start()
		if err != nil {
			return "", err
		}
		d.defer_(moto.Stop)
		if si, err = startStandIns(moto.URL, d.say); err != nil {
			return "", err
		}
		d.defer_(si.Close)
		os.Setenv("AWS_ENDPOINT_URL", si.URL)
		acfg = moto.Config()
		acfg.BaseEndpoint = aws.String(si.URL)
		return "moto answering on " + strings.TrimPrefix(moto.URL, "http://"), nil
	}); err != nil {
		return err
	}

	// 3. The account the stack is deployed into: the network and the secret.
	var net network
	var secretARN string
	if err := d.phase("creating the seed's network and the secret on moto", func() (string, error) {
		var err error
		if net, err = makeNetwork(ctx, ec2.NewFromConfig(acfg)); err != nil {
			return "", err
		}
		sec, err := secretsmanager.NewFromConfig(acfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("lakeforge/kthr01"),
			SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, pg.User.Username(), pgPass))})
		if err != nil {
			return "", err
		}
		secretARN = aws.ToString(sec.ARN)
		return "VPC, subnet, security group, endpoints and secret on moto", nil
	}); err != nil {
		return err
	}

	// 4. The configuration: cdk.json's, pointed at the local database.
	cfg, flags, err := demoConfig(d.opts.Root, pg, pgDB, secretARN, net)
	if err != nil {
		return err
	}
	if h := d.opts.Hooks; h != nil && h.Config != nil {
		h.Config(&cfg)
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("the hook's configuration: %w", err)
		}
	}
	cfgFile := filepath.Join(work, "lakeforge.json")
	if err := os.WriteFile(cfgFile, cfg.Marshal(), 0o600); err != nil {
		return err
	}
	d.say("configuration: cdk.json's, with source %s:%d/%s (TLS), the moto network and secret; written to %s", cfg.Source.Host, cfg.Source.Port, cfg.Source.DatabaseName, cfgFile)

	// 5. The template, and CloudFormation's part of it on moto.
	var tpl *template
	if err := d.phase("synthesizing the CDK stack (cdk.json's configuration)", func() (string, error) {
		var err error
		if tpl, err = synthesize(d.opts.Root, cfg, flags); err != nil {
			return "", err
		}
		return fmt.Sprintf("CDK stack synthesized: %d resources, %d step functions", len(tpl.Resources), len(tpl.functions)), nil
	}); err != nil {
		return err
	}
	if err := d.phase("creating the template's resources on moto", func() (string, error) {
		return "buckets, roles, token table, topic, connection, workflow on moto", d.createResources(ctx, acfg, tpl, cfg)
	}); err != nil {
		return err
	}

	// 6. The Spark side.
	var lake *lakeProc
	if err := d.phase("starting the Spark side (lake.py)", func() (string, error) {
		var err error
		lake, err = startLake(ctx, d.opts, work, d.log)
		return "Spark side started; its JVM starts with the import", err
	}); err != nil {
		return err
	}
	d.defer_(lake.Close)
	d.defer_(d.imports.Wait) // before the Spark process closes
	d.tpl, d.aws, d.wired = tpl, acfg, map[string]steprun.Handler{}
	si.handle = func(name string) error { return d.handshake(ctx, cfg, pg.User.Username(), pgPass) }
	si.sql = lake.SQL
	si.job = tpl.jobRunDetails()
	si.onRunStarted = func(runID string) {
		d.imports.Add(1)
		go func() {
			defer d.imports.Done()
			d.importThenEvent(ctx, si, cfg, lake, runID, work, pg.User.Username(), pgPass)
		}()
	}

	account := &Session{AWS: acfg, Config: cfg, ConfigFile: cfgFile, Warehouse: filepath.Join(work, "warehouse"), lake: lake, tpl: tpl, pg: pg}
	if h := d.opts.Hooks; h != nil && h.BeforeRun != nil {
		if err := h.BeforeRun(ctx, account); err != nil {
			return fmt.Errorf("before the run: %w", err)
		}
	}

	// 7. The state machine, and the CLI following it.
	smArn, err := tpl.Output(stepcontract.OutputStateMachineArn)
	if err != nil {
		return err
	}
	tasks, err := d.tasks(ctx)
	if err != nil {
		return err
	}
	def, err := tpl.definition()
	if err != nil {
		return err
	}
	waitMs, retryMs := 1000, 200
	sfn, err := localsfn.Start(localsfn.Options{Definition: def, StateMachineArn: smArn, Task: tasks, WaitMillis: &waitMs, RetryMillis: &retryMs,
		// The demo's import takes a minute; a token that import-events never
		// released ends the run instead of waiting for StartImport's
		// 24-hour timeout.
		CallbackTimeout: 10 * time.Minute})
	if err != nil {
		return err
	}
	d.defer_(sfn.Close)
	os.Setenv("AWS_ENDPOINT_URL_SFN", sfn.URL)
	d.screen.println("\nThe daily run, followed by the CLI (lakeforge run --follow; Wait states 1 s, retry pauses 0.2 s):")
	started := time.Now()
	code := cli.Main(ctx, []string{"--config", cfgFile, "run", "--follow", "--poll-interval", "200ms"},
		cli.Env{Stdout: d.out, Stderr: d.out, Terminal: d.opts.Terminal, Clients: cli.DefaultClients})
	d.runTook = time.Since(started)
	if code != cli.ExitOK {
		return fmt.Errorf("the run did not succeed (lakeforge exit %d); its failed state, cause and fix are above", code)
	}

	// 8. The analyst's two queries from the blog.
	table := cfg.Database.TablePrefix + "products"
	for _, q := range []string{
		fmt.Sprintf(`SELECT COUNT(*) FROM "%s"."%s"`, cfg.Database.Name, table),
		fmt.Sprintf(`SELECT * FROM "%s"."%s" ORDER BY created_at DESC LIMIT 10`, cfg.Database.Name, table),
	} {
		d.say("analyst> %s", q)
		cols, rows, err := lake.SQL(athenaToSpark(q))
		if err != nil {
			return fmt.Errorf("the analyst's query failed: %w", err)
		}
		d.queries = append(d.queries, queryResult{sql: q, cols: cols, rows: rows})
	}
	// 9. What the grants give the analyst, and who enforces it (access.go).
	if err := d.showAccess(ctx, acfg, cfg, lake, cfgFile); err != nil {
		return fmt.Errorf("lakeforge access: %w", err)
	}
	if h := d.opts.Hooks; h != nil && h.AfterRun != nil {
		if err := h.AfterRun(ctx, account); err != nil {
			return fmt.Errorf("after the run: %w", err)
		}
	}
	return nil
}

// tasks answers the Task states with the project's handlers, each wired
// once (a cold start) with the template's environment for its function.
// A .waitForTaskToken state returns once its function has returned: the
// import-events handler's SendTaskSuccess/SendTaskFailure ends the wait.
func (d *demo) tasks(ctx context.Context) (localsfn.TaskFunc, error) {
	byState, resources, err := stateFunctions()
	if err != nil {
		return nil, err
	}
	return func(state string, input json.RawMessage) (any, error) {
		resource := resources[state]
		fn, ok := byState[state]
		if !ok {
			if resource == "arn:aws:states:::sns:publish" {
				var in struct{ TopicArn, Subject, Message string }
				_ = json.Unmarshal(input, &in)
				_, err := sns.NewFromConfig(d.aws).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(in.TopicArn), Subject: aws.String(in.Subject), Message: aws.String(in.Message)})
				if err == nil {
					d.say("the failure notice went to %s (moto's SNS)", in.TopicArn)
				}
				return map[string]any{}, err
			}
			return nil, fmt.Errorf("the demo has no handler for state %s", state)
		}
		payload := input
		if strings.HasPrefix(resource, lambdaInvoke) {
			var in struct {
				Payload json.RawMessage `json:"Payload"`
			}
			if err := json.Unmarshal(input, &in); err != nil || len(in.Payload) == 0 {
				return nil, fmt.Errorf("state %s: the lambda:invoke parameters have no Payload: %s", state, input)
			}
			payload = in.Payload
		}
		out, err := d.invoke(ctx, fn, payload)
		if err == nil && fn == stepcontract.VerifyQuery {
			// The summary line reports what VerifyQuery found.
			var v verify.Output
			if b, merr := json.Marshal(out); merr == nil && json.Unmarshal(b, &v) == nil {
				d.verified = &v
			}
		}
		if err != nil || !strings.HasSuffix(resource, ".waitForTaskToken") {
			return out, err
		}
		b, _ := json.Marshal(out)
		d.say("%s returned %s; the state now waits for its task token (SendTaskSuccess or SendTaskFailure)", fn, b)
		return localsfn.AwaitCallback, nil
	}, nil
}

// invoke runs step function fn's handler on payload, wiring it on its
// first call with the template's environment for it.
func (d *demo) invoke(ctx context.Context, fn string, payload json.RawMessage) (any, error) {
	d.wirMu.Lock()
	h, ok := d.wired[fn]
	if !ok {
		id, found := d.tpl.functions[fn]
		if !found {
			d.wirMu.Unlock()
			return nil, fmt.Errorf("the template has no function %s", fn)
		}
		env, err := d.tpl.functionEnv(id)
		if err != nil {
			d.wirMu.Unlock()
			return nil, fmt.Errorf("%s environment: %w", fn, err)
		}
		w, found := steps.ByName(fn)
		if !found {
			d.wirMu.Unlock()
			return nil, fmt.Errorf("no wiring for %s", fn)
		}
		// The handler logs into the demo's log file, not onto the screen.
		st := steprun.NewWithEnv(fn, env)
		st.Log = d.handlerLog.With("step", fn)
		slog.SetDefault(d.handlerLog)
		if h, err = w.Wire(st); err != nil {
			d.wirMu.Unlock()
			return nil, err
		}
		d.wired[fn] = h
	}
	d.wirMu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	return h(cctx, payload)
}
