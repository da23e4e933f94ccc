// Package demo is `make demo`: the whole daily run on this machine, with no
// AWS account. The real pipeline (statemachine/pipeline.asl.json, executed
// by aws-local-stepfunctions), the project's own Go step handlers wired with
// the environment of the synthesized template, the real import job on local
// Spark reading a local PostgreSQL with the blog's kthr01 data, and the
// analyst's two queries on the lake it wrote. moto answers the AWS APIs;
// what moto cannot do is done locally and named as a stand-in.
package demo

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
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/lakeforge/lakeforge/pkg/cli"
	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/internal/localsfn"
	"github.com/lakeforge/lakeforge/pkg/internal/motoserver"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/stepcontract/contracttest"
	"github.com/lakeforge/lakeforge/pkg/steprun"
	"github.com/lakeforge/lakeforge/statemachine"
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
	d.say("template: %d resources, %d step functions", len(tpl.resources), len(tpl.functions))

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

	// 8. The state machine, and the CLI following it.
	smArn, err := tpl.output("StateMachineArn")
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
	sfn, err := localsfn.Start(localsfn.Options{Definition: def, StateMachineArn: smArn, Task: tasks, WaitMillis: &waitMs, RetryMillis: &retryMs})
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
	fmt.Fprintln(d.out)
	return nil
}

type network struct{ vpc, subnet, sg string }

func makeNetwork(ctx context.Context, c *ec2.Client) (network, error) {
	var n network
	vpc, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.40.0.0/16")})
	if err != nil {
		return n, err
	}
	n.vpc = aws.ToString(vpc.Vpc.VpcId)
	if _, err := c.ModifyVpcAttribute(ctx, &ec2.ModifyVpcAttributeInput{VpcId: aws.String(n.vpc), EnableDnsHostnames: &ec2types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
		return n, err
	}
	sub, err := c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(n.vpc), CidrBlock: aws.String("10.40.1.0/24"), AvailabilityZone: aws.String(Region + "a")})
	if err != nil {
		return n, err
	}
	n.subnet = aws.ToString(sub.Subnet.SubnetId)
	rt, err := c.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(n.vpc)})
	if err != nil {
		return n, err
	}
	if _, err := c.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(n.subnet)}); err != nil {
		return n, err
	}
	sg, err := c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("glue"), Description: aws.String("Glue ENIs"), VpcId: aws.String(n.vpc)})
	if err != nil {
		return n, err
	}
	n.sg = aws.ToString(sg.GroupId)
	if _, err := c.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId,
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(0), ToPort: aws.Int32(65535), UserIdGroupPairs: []ec2types.UserIdGroupPair{{GroupId: sg.GroupId}}}}}); err != nil {
		return n, err
	}
	// The endpoints the job needs without a NAT route (preflight's list).
	for _, e := range preflight.RequiredEndpoints {
		in := &ec2.CreateVpcEndpointInput{VpcId: aws.String(n.vpc), ServiceName: aws.String(preflight.ServiceName(Region, e.Service)), VpcEndpointType: e.Type}
		if e.Type == ec2types.VpcEndpointTypeGateway {
			in.RouteTableIds = []string{aws.ToString(rt.RouteTable.RouteTableId)}
		} else {
			in.SubnetIds, in.SecurityGroupIds, in.PrivateDnsEnabled = []string{n.subnet}, []string{n.sg}, aws.Bool(true)
		}
		if _, err := c.CreateVpcEndpoint(ctx, in); err != nil {
			return n, fmt.Errorf("VPC endpoint %s: %w", e.Service, err)
		}
	}
	return n, nil
}

func demoConfig(root string, pg *url.URL, db, secretARN string, n network) (config.Config, map[string]any, error) {
	path := filepath.Join(root, "cdk.json")
	cfg, err := config.LoadCDKJSON(path)
	if err != nil {
		return cfg, nil, err
	}
	var port int
	fmt.Sscan(pg.Port(), &port)
	cfg.Source.Engine, cfg.Source.Host, cfg.Source.Port, cfg.Source.DatabaseName = config.EnginePostgreSQL, pg.Hostname(), port, db
	cfg.Source.SecretARN, cfg.Source.RequireTLS, cfg.Source.IncludePaths = secretARN, true, []string{db + "/kthr01/%"}
	cfg.Network.VPCID, cfg.Network.SubnetID, cfg.Network.AvailabilityZone, cfg.Network.SecurityGroupIDs = n.vpc, n.subnet, Region+"a", []string{n.sg}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, fmt.Errorf("the demo's configuration: %w", err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return cfg, nil, err
	}
	flags := map[string]any{}
	for k, v := range doc.Context {
		if k != config.ContextKey {
			flags[k] = v
		}
	}
	return cfg, flags, nil
}

// createResources does CloudFormation's part on moto: what the steps and
// the job use, named as the template names them, and a stack with the
// template's outputs for the CLI.
func (d *demo) createResources(ctx context.Context, c aws.Config, tpl *template, cfg config.Config) error {
	d.say("CloudFormation stand-in: creating the template's buckets, roles, token table, topic, Glue connection, workflow and Athena workgroup on moto")
	s3c := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range tpl.byType("AWS::S3::Bucket") {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tpl.name(id))}); err != nil {
			return fmt.Errorf("bucket %s: %w", tpl.name(id), err)
		}
	}
	im := iam.NewFromConfig(c)
	for _, id := range tpl.byType("AWS::IAM::Role") {
		doc, _ := json.Marshal(tpl.props(id)["AssumeRolePolicyDocument"])
		if _, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(tpl.name(id)), AssumeRolePolicyDocument: aws.String(string(doc))}); err != nil {
			return fmt.Errorf("role %s: %w", tpl.name(id), err)
		}
	}
	for _, id := range tpl.byType("AWS::DynamoDB::Table") {
		if err := createTable(ctx, dynamodb.NewFromConfig(c), tpl, id); err != nil {
			return err
		}
	}
	for _, id := range tpl.byType("AWS::SNS::Topic") {
		if _, err := sns.NewFromConfig(c).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(tpl.name(id))}); err != nil {
			return err
		}
	}
	g := glue.NewFromConfig(c)
	for _, id := range tpl.byType("AWS::Glue::Connection") {
		ci, _ := tpl.props(id)["ConnectionInput"].(map[string]any)
		props := map[string]string{}
		cp, _ := ci["ConnectionProperties"].(map[string]any)
		for k, v := range cp {
			s, err := tpl.resolve(v)
			if err != nil {
				return fmt.Errorf("connection property %s: %w", k, err)
			}
			props[k] = s
		}
		if _, err := g.CreateConnection(ctx, &glue.CreateConnectionInput{ConnectionInput: &gluetypes.ConnectionInput{
			Name: aws.String(tpl.name(id)), ConnectionType: gluetypes.ConnectionTypeJdbc, ConnectionProperties: props,
			PhysicalConnectionRequirements: &gluetypes.PhysicalConnectionRequirements{SubnetId: aws.String(cfg.Network.SubnetID),
				AvailabilityZone: aws.String(cfg.Network.AvailabilityZone), SecurityGroupIdList: cfg.Network.SecurityGroupIDs}}}); err != nil {
			return fmt.Errorf("connection: %w", err)
		}
	}
	for _, id := range tpl.byType("AWS::Glue::Workflow") {
		if _, err := g.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(tpl.name(id))}); err != nil {
			return err
		}
	}
	for _, id := range tpl.byType("AWS::Athena::WorkGroup") {
		if _, err := athena.NewFromConfig(c).CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(tpl.name(id))}); err != nil {
			return err
		}
	}
	outputs := map[string]any{}
	for k := range tpl.outputs {
		v, err := tpl.output(k)
		if err != nil {
			return fmt.Errorf("output %s: %w", k, err)
		}
		outputs[k] = map[string]any{"Value": v}
	}
	body, _ := json.Marshal(map[string]any{"Resources": map[string]any{"Placeholder": map[string]any{"Type": "AWS::SNS::Topic"}}, "Outputs": outputs})
	_, err := cloudformation.NewFromConfig(c).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(cfg.StackName), TemplateBody: aws.String(string(body))})
	return err
}

// stateFunctions maps each Task state of the pipeline to the step
// function (functions/<name>) its placeholder names, in Resource or, for
// a lambda:invoke integration, in Parameters.FunctionName.
func stateFunctions() (map[string]string, map[string]string, error) {
	var def struct {
		States map[string]json.RawMessage `json:"States"`
	}
	if err := json.Unmarshal([]byte(statemachine.Pipeline), &def); err != nil {
		return nil, nil, err
	}
	byState, resources := map[string]string{}, map[string]string{}
	for state, raw := range def.States {
		var st struct{ Type, Resource string }
		_ = json.Unmarshal(raw, &st)
		if st.Type != "Task" {
			continue
		}
		resources[state] = st.Resource
		for _, fn := range stepcontract.Functions {
			if strings.Contains(string(raw), "${"+stepcontract.FunctionArnPlaceholder(fn)+"}") {
				byState[state] = fn
			}
		}
	}
	return byState, resources, nil
}

// lambdaInvoke is the prefix of the Lambda service integration, whose
// function receives Parameters.Payload (not the whole Parameters).
const lambdaInvoke = "arn:aws:states:::lambda:invoke"

// createTable makes a DynamoDB table with the template's key schema.
func createTable(ctx context.Context, db *dynamodb.Client, tpl *template, id string) error {
	p := tpl.props(id)
	var in dynamodb.CreateTableInput
	in.TableName, in.BillingMode = aws.String(tpl.name(id)), ddbtypes.BillingModePayPerRequest
	keys, _ := p["KeySchema"].([]any)
	for _, k := range keys {
		m, _ := k.(map[string]any)
		in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(fmt.Sprint(m["AttributeName"])), KeyType: ddbtypes.KeyType(fmt.Sprint(m["KeyType"]))})
	}
	attrs, _ := p["AttributeDefinitions"].([]any)
	for _, a := range attrs {
		m, _ := a.(map[string]any)
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(fmt.Sprint(m["AttributeName"])), AttributeType: ddbtypes.ScalarAttributeType(fmt.Sprint(m["AttributeType"]))})
	}
	if len(in.KeySchema) == 0 {
		return fmt.Errorf("table %s: the template gives no KeySchema", tpl.name(id))
	}
	if _, err := db.CreateTable(ctx, &in); err != nil {
		return fmt.Errorf("table %s: %w", tpl.name(id), err)
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
		w, found := contracttest.Wirings[fn]
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
	si.jobStarted(runID, d.tpl.name(job), jobRunID)
	ierr := d.runImport(ctx, d.aws, d.tpl, cfg, lake, runID, jobRunID, work, user, pass)
	si.jobEnded(runID, ierr)
	ev := GlueJobEvent(d.tpl.name(job), jobRunID, ierr, time.Now())
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
	state, severity, message := "SUCCEEDED", "INFO", "Job run succeeded"
	if jobErr != nil {
		state, severity, message = "FAILED", "ERROR", jobErr.Error()
	}
	raw, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("demo-%d", at.UnixNano()), "detail-type": "Glue Job State Change", "source": "aws.glue",
		"account": Account, "time": at.UTC().Format(time.RFC3339), "region": Region, "resources": []string{},
		"detail": map[string]string{"jobName": job, "severity": severity, "state": state, "jobRunId": jobRunID, "message": message},
	})
	return glueEvent{raw: raw, state: state}
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
	da, _ := tpl.props(job)["DefaultArguments"].(map[string]any)
	for k, v := range da {
		s, err := tpl.resolve(v)
		if err != nil {
			return fmt.Errorf("job argument %s: %w", k, err)
		}
		args[k] = s
	}
	workflow := cfg.Names().Workflow
	args["--JOB_NAME"], args["--WORKFLOW_NAME"], args["--WORKFLOW_RUN_ID"], args["--JOB_RUN_ID"] = tpl.name(job), workflow, runID, jobRunID
	conn := map[string]any{"name": cfg.Names().Connection}
	for _, id := range tpl.byType("AWS::Glue::Connection") {
		ci, _ := tpl.props(id)["ConnectionInput"].(map[string]any)
		props := map[string]string{}
		cp, _ := ci["ConnectionProperties"].(map[string]any)
		for k, v := range cp {
			props[k], _ = tpl.resolve(v)
		}
		conn = map[string]any{"name": tpl.name(id), "ConnectionProperties": props}
	}
	d.say("import job %s starting on local Spark for workflow run %s (the job's DefaultArguments from the template)", tpl.name(job), runID)
	res, err := lake.call(map[string]any{"cmd": "import", "arguments": args, "connection": conn,
		"secret": map[string]string{"username": user, "password": pass}, "warehouse": filepath.Join(work, "warehouse")})
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

func startLake(ctx context.Context, o Options, work string) (*lakeProc, error) {
	py := o.Python
	if py == "" {
		py = "python3"
	}
	cmd := exec.Command(py, filepath.Join(o.Root, "pkg", "demo", "lake.py"))
	cmd.Dir = o.Root
	cmd.Stderr = io.Discard
	if os.Getenv("LAKEFORGE_DEMO_DEBUG") != "" {
		cmd.Stderr = os.Stderr
	}
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
		return nil, fmt.Errorf("the Spark process ended: %v (rerun with LAKEFORGE_DEMO_DEBUG=1 to see its log)", l.out.Err())
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

func printTable(w io.Writer, cols []string, rows [][]string) {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c)
	}
	for _, r := range rows {
		for i, v := range r {
			if i < len(widths) && len(v) > widths[i] {
				widths[i] = len(v)
			}
		}
	}
	line := func(vals []string) {
		var b strings.Builder
		for i, v := range vals {
			fmt.Fprintf(&b, "| %-*s ", widths[i], v)
		}
		fmt.Fprintln(w, b.String()+"|")
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = strings.Repeat("-", widths[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	fmt.Fprintf(w, "(%d rows)\n", len(rows))
}
