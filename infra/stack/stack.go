// Package stack is lakeforge's infrastructure: the constructs of the lake,
// each NewX(scope, id, props) with explicit props (Storage, Alerts,
// Personas, Source, ImportWorkflow, AccessModel, ImportEvents, Pipeline,
// Monitoring, FirstRun), their composition from the configuration
// (NewLake), and the lakeforge stack that holds the lake (New). A team
// embeds the lake in its own stack with NewLake (examples/embed).
package stack

import (
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/lakeforge/lakeforge/pkg/awsarn"
	"github.com/lakeforge/lakeforge/pkg/config"
)

// Props configures the stack.
type Props struct {
	awscdk.StackProps
	Config config.Config
	// AssetDir holds dist/<function>/bootstrap, as `make build` writes them.
	AssetDir string
}

// Stack is the lakeforge stack: the lake in a stack of its own.
type Stack struct {
	awscdk.Stack
	// Lake is a field, not embedded: jsii registers a struct's embedded
	// values as aliases of the stack's own object.
	Lake *Lake
}

// lakeID is the construct id of the lake in the lakeforge stack.
const lakeID = "Lake"

// New makes the lakeforge stack from a validated configuration.
func New(scope constructs.Construct, id string, props *Props) *Stack {
	sp := props.StackProps
	if sp.Description == nil {
		sp.Description = jsii.String("lakeforge: a Lake Formation data lake fed daily from an RDS database")
	}
	s := &Stack{}
	awscdk.NewStack_Override(s, scope, jsii.String(id), &sp)
	// The stack's tag also reaches what CDK adds beside the lake (the
	// providers of its custom resources).
	tagLakeforge(s, id)
	s.Lake = NewLake(s, lakeID, &LakeProps{Config: props.Config, AssetDir: props.AssetDir})
	s.pinLogicalIDs()
	return s
}

// logicalIDAsks counts AllocateLogicalId's calls (each a jsii callback
// while CDK synthesizes), for the test that keeps synthesis from asking.
var logicalIDAsks atomic.Int64

// pinLogicalIDs sets each element's logical id, now, to the one it has:
// AllocateLogicalId's, or an id set already (the outputs'). CDK asks the
// stack for an element's id every time a reference to it is resolved, and
// each ask of a Go override is a jsii callback: pinned, a synthesis of the
// lake takes a third of the time (docs/development.md, "Timings").
// Elements CDK adds later, while it synthesizes (and any this misses),
// still get theirs from AllocateLogicalId: the same id, asked each time.
func (s *Stack) pinLogicalIDs() {
	for _, c := range *s.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		// jsii hands each construct over as its own class's Go type; one
		// that is not a CfnElement is skipped without a call to Node.
		if e, ok := c.(awscdk.CfnElement); ok {
			if id, ok := s.Resolve(e.LogicalId()).(string); ok {
				e.OverrideLogicalId(&id)
			}
		}
	}
}

// tagLakeforge tags every resource under scope with the stack name.
func tagLakeforge(scope constructs.IConstruct, stackName string) {
	awscdk.Tags_Of(scope).Add(jsii.String("lakeforge:stack"), jsii.String(stackName), &awscdk.TagProps{
		// Tags on AWS::Glue::Connection are newer than the resource schema
		// cfn-lint (and some regions) know; the connection is named after
		// the stack instead.
		ExcludeResourceTypes: jsii.Strings("AWS::Glue::Connection"),
	})
}

// AllocateLogicalId gives each resource of the lake the logical id it had
// when the stack held every resource directly: CDK's id of its construct
// path without the lake's and its part's construct ids. A changed logical
// id makes CloudFormation replace the resource on the next deploy (a new
// lake bucket; persona roles with new ARNs, whose Lake Formation grants
// would go stale; named Glue, Athena and Step Functions resources that
// collide with their old selves), so deployed stacks keep theirs.
// Everything else keeps CDK's own id.
func (s *Stack) AllocateLogicalId(element awscdk.CfnElement) *string {
	logicalIDAsks.Add(1)
	path := strings.Split(*element.Node().Path(), "/")
	path = path[len(strings.Split(*s.Node().Path(), "/")):]
	if len(path) > 2 && path[0] == lakeID {
		path = path[2:]
	}
	return jsii.String(uniqueID(path))
}

// uniqueID is CDK's logical id of a construct path below its stack
// (makeUniqueId of aws-cdk-lib core/lib/private/uniqueid.ts): "Default"
// components left out, a lone component as it is, else the components
// without consecutive repeats and "Resource", alphanumerics only, and the
// first 8 hex digits of the MD5 of the path.
func uniqueID(components []string) string {
	components = slices.DeleteFunc(slices.Clone(components), func(c string) bool { return c == "Default" })
	if len(components) == 1 {
		if id := nonAlphanumeric.ReplaceAllString(components[0], ""); len(id) <= 255 {
			return id
		}
	}
	sum := md5.Sum([]byte(strings.Join(components, "/")))
	hash := strings.ToUpper(hex.EncodeToString(sum[:]))[:8]
	var human []string
	for _, c := range components {
		if len(human) == 0 || !strings.HasSuffix(human[len(human)-1], c) {
			human = append(human, c)
		}
	}
	var b strings.Builder
	for _, c := range human {
		if c != "Resource" {
			b.WriteString(nonAlphanumeric.ReplaceAllString(c, ""))
		}
	}
	id := b.String()
	if len(id) > 240 {
		id = id[:240]
	}
	return id + hash
}

var nonAlphanumeric = regexp.MustCompile(`[^A-Za-z0-9]`)

// arn is the ARN of a resource of the stack's account, in the stack's
// region; IAM is global, so its ARNs have no region.
func arn(service, resource string) string {
	region := *awscdk.Aws_REGION()
	if service == "iam" {
		region = ""
	}
	return awsarn.ARN(*awscdk.Aws_PARTITION(), service, region, *awscdk.Aws_ACCOUNT_ID(), resource)
}

// logicalID is the template's logical id of a construct's CloudFormation
// resource, as cdk-nag names it in "Resource::<id.Arn>" findings.
func logicalID(c constructs.IConstruct) string {
	return *awscdk.Stack_Of(c).GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}
