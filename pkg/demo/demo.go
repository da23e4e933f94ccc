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
)

// StandIns is what the demo says, first and last, about what is real.
const StandIns = `What runs for real, and what stands in for AWS:
  real      the state machine definition (statemachine/pipeline.asl.json, with the template's DefinitionSubstitutions), executed by aws-local-stepfunctions
  real      the project's Go step handlers, each wired with the environment of the synthesized CDK template
  real      the callback wait: start-import keeps the task token in the token table, import-events releases it with SendTaskSuccess/SendTaskFailure
  real      the PySpark import job (infra/glue/import_job.py) on local Spark, reading a local PostgreSQL (kthr01 data)
  real      the lakeforge CLI following the run (lakeforge run --follow)
  stand-in  moto answers S3, IAM, STS, Lake Formation, Glue catalog, DynamoDB, Secrets Manager, EC2, SNS, CloudFormation
  stand-in  CloudFormation: the demo creates on moto the resources the steps use (buckets, roles, token table, connection, workflow, workgroup)
  stand-in  Step Functions API: pkg/internal/localsfn serves the executions and the task-token calls (Task states call the handlers in-process, not Lambda)
  stand-in  EventBridge: the demo hands the Glue Job State Change event (Glue's documented shape) to import-events, as the rule would
  stand-in  lakeformation:ListPermissions by LF-tag resource type: moto 5.2.5 rejects it; answered from moto's grants, filtered as documented
  stand-in  cloudwatch:PutMetricData (VerifyQuery's metrics): moto 5.2.5 does not serve its CBOR protocol; accepted, not kept
  stand-in  glue:TestConnection: a direct database handshake from this machine (moto has none)
  stand-in  Glue workflow run: moto records it; the import job runs on local Spark (local_runtime.py for what only Glue has);
            glue:GetWorkflowRun reports the job's real result with the run's graph (moto's runs never end and have no graph)
  stand-in  S3 for the lake data: the job writes Iceberg tables to a local directory; its run manifest is copied to moto's S3 for VerifyQuery
  stand-in  Athena: VerifyQuery's and the analyst's SQL run as Spark SQL on that local lake
  stand-in  Lake Formation enforcement: none here; lakeforge access shows what the grants give, Lake Formation enforces it on AWS
`

// Options configure a demo run.
type Options struct {
	Out      io.Writer
	Terminal bool
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
	mu      sync.Mutex
	start   time.Time
	cleanup []func()

	tpl   *template
	aws   aws.Config
	wired map[string]steprun.Handler // each step function, wired once
	wirMu sync.Mutex
	// imports are the import jobs running, each with its Glue event.
	imports sync.WaitGroup
}

func (d *demo) say(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintf(d.out, "demo [%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) defer_(f func()) { d.cleanup = append(d.cleanup, f) }

// Run runs the demo and tears down everything it started.
func Run(ctx context.Context, opts Options) (err error) {
	d := &demo{opts: opts, out: opts.Out, start: time.Now()}
	fmt.Fprint(d.out, StandIns+"\n")
	defer func() {
		for i := len(d.cleanup) - 1; i >= 0; i-- {
			d.cleanup[i]()
		}
		d.say("torn down: moto, the local Step Functions, the Spark process and the demo's files are gone")
		fmt.Fprint(d.out, "\n"+StandIns)
	}()
	return d.run(ctx)
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

	// 1. The source: the blog's kthr01 data in the local PostgreSQL.
	d.say("loading the blog's kthr01 data into PostgreSQL %s:%s (schema kthr01)", pg.Hostname(), pg.Port())
	psql := exec.CommandContext(ctx, "psql", fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=require", pg.Hostname(), pg.Port(), pg.User.Username(), pgDB),
		"-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "schema=kthr01", "-f", filepath.Join(d.opts.Root, "infra", "glue", "fixtures", "postgres.sql"))
	psql.Env = append(os.Environ(), "PGPASSWORD="+pgPass)
	if out, err := psql.CombinedOutput(); err != nil {
		return fmt.Errorf("load kthr01 into PostgreSQL: %v: %s", err, out)
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
	d.say("starting moto (the AWS API emulator) on 127.0.0.1")
	moto, err := motoserver.Start()
	if err != nil {
		return err
	}
	d.defer_(moto.Stop)
	si, err := startStandIns(moto.URL, d.say)
	if err != nil {
		return err
	}
	d.defer_(si.Close)
	os.Setenv("AWS_ENDPOINT_URL", si.URL)
	acfg := moto.Config()
	acfg.BaseEndpoint = aws.String(si.URL)

	// 3. The account the stack is deployed into: the network and the secret.
	d.say("creating the seed's network on moto: a VPC, a subnet, a security group with the self-referencing rule, the S3 gateway endpoint and the interface endpoints the job needs")
	net, err := makeNetwork(ctx, ec2.NewFromConfig(acfg))
	if err != nil {
		return err
	}
	sec, err := secretsmanager.NewFromConfig(acfg).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("lakeforge/kthr01"),
		SecretString: aws.String(fmt.Sprintf(`{"username":%q,"password":%q}`, pg.User.Username(), pgPass))})
	if err != nil {
		return err
	}

	// 4. The configuration: cdk.json's, pointed at the local database.
	cfg, flags, err := demoConfig(d.opts.Root, pg, pgDB, aws.ToString(sec.ARN), net)
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

	// 5. The template.
	d.say("synthesizing the CDK stack in-process (the template gives every step its environment and the job its arguments)")
	tpl, err := synthesize(d.opts.Root, cfg, flags)
	if err != nil {
		return err
	}
	d.say("template: %d resources, %d step functions", len(tpl.Resources), len(tpl.functions))

	// 6. CloudFormation's part, on moto.
	if err := d.createResources(ctx, acfg, tpl, cfg); err != nil {
		return err
	}

	// 7. The Spark side.
	lake, err := startLake(ctx, d.opts, work)
	if err != nil {
		return err
	}
	d.defer_(lake.Close)
	d.defer_(d.imports.Wait) // before the Spark process closes
	d.tpl, d.aws, d.wired = tpl, acfg, map[string]steprun.Handler{}
	si.handle = func(name string) error { return d.handshake(ctx, cfg, pg.User.Username(), pgPass) }
	si.sql = lake.SQL
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

	// 8. The state machine, and the CLI following it.
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
	d.say("starting the daily run with the CLI: lakeforge run --follow (Wait states 1 s, retry pauses 0.2 s)")
	fmt.Fprintln(d.out)
	code := cli.Main(ctx, []string{"--config", cfgFile, "run", "--follow", "--poll-interval", "500ms"},
		cli.Env{Stdout: d.out, Stderr: d.out, Terminal: d.opts.Terminal, Clients: cli.DefaultClients})
	fmt.Fprintln(d.out)
	if code != cli.ExitOK {
		return fmt.Errorf("the run did not succeed (lakeforge exit %d); its failed state, cause and fix are above", code)
	}
	cli.Main(ctx, []string{"--config", cfgFile, "status", "-n", "1"}, cli.Env{Stdout: d.out, Stderr: d.out, Clients: cli.DefaultClients})

	// 9. The analyst's two queries from the blog.
	table := cfg.Database.TablePrefix + "products"
	for _, q := range []string{
		fmt.Sprintf(`SELECT COUNT(*) FROM "%s"."%s"`, cfg.Database.Name, table),
		fmt.Sprintf(`SELECT * FROM "%s"."%s" ORDER BY created_at DESC LIMIT 10`, cfg.Database.Name, table),
	} {
		fmt.Fprintf(d.out, "\nanalyst> %s\n", q)
		cols, rows, err := lake.SQL(athenaToSpark(q))
		if err != nil {
			return fmt.Errorf("the analyst's query failed: %w", err)
		}
		printTable(d.out, cols, rows)
	}
	// 10. What the grants give the analyst, and who enforces it (access.go).
	if err := d.showAccess(ctx, acfg, cfg, lake, cfgFile); err != nil {
		return fmt.Errorf("lakeforge access: %w", err)
	}
	fmt.Fprintln(d.out)
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
		if h, err = w.Wire(steprun.NewWithEnv(fn, env)); err != nil {
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
