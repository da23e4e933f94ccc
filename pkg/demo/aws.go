package demo

// The AWS side of the demo on moto: the seed network, the configuration
// the template is synthesized from, and the resources the stack would make.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

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
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/lakeforge/lakeforge/pkg/config"
	"github.com/lakeforge/lakeforge/pkg/preflight"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/statemachine"
)

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
	ctx, err := config.CDKJSONContext(path)
	if err != nil {
		return cfg, nil, err
	}
	flags, err := config.FeatureFlags(ctx)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, flags, nil
}

// createResources does CloudFormation's part on moto: what the steps and
// the job use, named as the template names them, and a stack with the
// template's outputs for the CLI.
func (d *demo) createResources(ctx context.Context, c aws.Config, tpl *template, cfg config.Config) error {
	d.say("CloudFormation stand-in: creating the template's buckets, roles, token table, topic, Glue connection, workflow and Athena workgroup on moto")
	s3c := s3.NewFromConfig(c, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range tpl.ByType("AWS::S3::Bucket") {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(tpl.Name(id))}); err != nil {
			return fmt.Errorf("bucket %s: %w", tpl.Name(id), err)
		}
	}
	im := iam.NewFromConfig(c)
	for _, id := range tpl.ByType("AWS::IAM::Role") {
		doc, _ := json.Marshal(tpl.Props(id)["AssumeRolePolicyDocument"])
		if _, err := im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(tpl.Name(id)), AssumeRolePolicyDocument: aws.String(string(doc))}); err != nil {
			return fmt.Errorf("role %s: %w", tpl.Name(id), err)
		}
	}
	for _, id := range tpl.ByType("AWS::DynamoDB::Table") {
		if err := createTable(ctx, dynamodb.NewFromConfig(c), tpl, id); err != nil {
			return err
		}
	}
	for _, id := range tpl.ByType("AWS::SNS::Topic") {
		if _, err := sns.NewFromConfig(c).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(tpl.Name(id))}); err != nil {
			return err
		}
	}
	g := glue.NewFromConfig(c)
	for _, id := range tpl.ByType("AWS::Glue::Connection") {
		ci, _ := tpl.Props(id)["ConnectionInput"].(map[string]any)
		props := map[string]string{}
		cp, _ := ci["ConnectionProperties"].(map[string]any)
		for k, v := range cp {
			s, err := tpl.Resolve(v)
			if err != nil {
				return fmt.Errorf("connection property %s: %w", k, err)
			}
			props[k] = s
		}
		if _, err := g.CreateConnection(ctx, &glue.CreateConnectionInput{ConnectionInput: &gluetypes.ConnectionInput{
			Name: aws.String(tpl.Name(id)), ConnectionType: gluetypes.ConnectionTypeJdbc, ConnectionProperties: props,
			PhysicalConnectionRequirements: &gluetypes.PhysicalConnectionRequirements{SubnetId: aws.String(cfg.Network.SubnetID),
				AvailabilityZone: aws.String(cfg.Network.AvailabilityZone), SecurityGroupIdList: cfg.Network.SecurityGroupIDs}}}); err != nil {
			return fmt.Errorf("connection: %w", err)
		}
	}
	for _, id := range tpl.ByType("AWS::Glue::Workflow") {
		if _, err := g.CreateWorkflow(ctx, &glue.CreateWorkflowInput{Name: aws.String(tpl.Name(id))}); err != nil {
			return err
		}
	}
	for _, id := range tpl.ByType("AWS::Athena::WorkGroup") {
		if _, err := athena.NewFromConfig(c).CreateWorkGroup(ctx, &athena.CreateWorkGroupInput{Name: aws.String(tpl.Name(id))}); err != nil {
			return err
		}
	}
	outputs := map[string]any{}
	for k := range tpl.Outputs {
		v, err := tpl.Output(k)
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
	p := tpl.Props(id)
	var in dynamodb.CreateTableInput
	in.TableName, in.BillingMode = aws.String(tpl.Name(id)), ddbtypes.BillingModePayPerRequest
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
		return fmt.Errorf("table %s: the template gives no KeySchema", tpl.Name(id))
	}
	if _, err := db.CreateTable(ctx, &in); err != nil {
		return fmt.Errorf("table %s: %w", tpl.Name(id), err)
	}
	return nil
}
