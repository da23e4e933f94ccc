// Package cfntemplate renders the values of a synthesized CloudFormation
// template as CloudFormation would in one account and region: pseudo
// parameters, Ref and Fn::GetAtt of the template's own resources (physical
// names from their name property, or made from the logical id where the
// template sets none), Fn::Join, and Fn::Sub of pseudo parameters (asset
// locations). Any other intrinsic is an error, never
// a guess. The demo and the template contract tests resolve through it.
package cfntemplate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Template is a synthesized template in an account and region.
type Template struct {
	Resources map[string]any
	Outputs   map[string]any
	Account   string
	Region    string
	// Names are physical names by logical id that stand in for what only a
	// deployment knows (a bucket's generated name, say).
	Names map[string]string
}

// New reads the template document doc (as Template.ToJSON gives it).
func New(doc map[string]any, account, region string) *Template {
	t := &Template{Resources: map[string]any{}, Outputs: map[string]any{}, Account: account, Region: region, Names: map[string]string{}}
	if r, ok := doc["Resources"].(map[string]any); ok {
		t.Resources = r
	}
	if o, ok := doc["Outputs"].(map[string]any); ok {
		t.Outputs = o
	}
	return t
}

// Type is the resource type of logical id id; empty when there is none.
func (t *Template) Type(id string) string {
	r, _ := t.Resources[id].(map[string]any)
	s, _ := r["Type"].(string)
	return s
}

// Props are the properties of resource id.
func (t *Template) Props(id string) map[string]any {
	r, _ := t.Resources[id].(map[string]any)
	p, _ := r["Properties"].(map[string]any)
	return p
}

// ByType lists the logical ids of one resource type.
func (t *Template) ByType(typ string) []string {
	var out []string
	for id := range t.Resources {
		if t.Type(id) == typ {
			out = append(out, id)
		}
	}
	return out
}

// nameProps are the properties that name a resource, by type.
var nameProps = map[string]string{
	"AWS::S3::Bucket": "BucketName", "AWS::IAM::Role": "RoleName", "AWS::Glue::Workflow": "Name",
	"AWS::Glue::Job": "Name", "AWS::Glue::Trigger": "Name",
	"AWS::Athena::WorkGroup": "Name", "AWS::SNS::Topic": "TopicName", "AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::DynamoDB::Table": "TableName", "AWS::Lambda::Function": "FunctionName",
}

// Name is a resource's physical name: a stand-in from Names, its name
// property when the template sets one, else one made from the logical id,
// as CloudFormation makes it.
func (t *Template) Name(id string) string {
	if n, ok := t.Names[id]; ok {
		return n
	}
	if p := nameProps[t.Type(id)]; p != "" {
		if v, ok := t.Props(id)[p]; ok {
			if s, err := t.Resolve(v); err == nil && s != "" {
				return s
			}
		}
	}
	if t.Type(id) == "AWS::Glue::Connection" {
		if ci, ok := t.Props(id)["ConnectionInput"].(map[string]any); ok {
			if s, err := t.Resolve(ci["Name"]); err == nil && s != "" {
				return s
			}
		}
	}
	return strings.ToLower(id)
}

// Resolve renders a template value.
func (t *Template) Resolve(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, float64:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return t.ref(ref)
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			return t.attr(fmt.Sprint(att[0]), fmt.Sprint(att[1]))
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			// Asset locations: the bootstrap bucket named by pseudo parameters.
			out := strings.NewReplacer("${AWS::AccountId}", t.Account, "${AWS::Region}", t.Region,
				"${AWS::Partition}", "aws", "${AWS::URLSuffix}", "amazonaws.com").Replace(sub)
			if strings.Contains(out, "${") {
				return "", fmt.Errorf("Fn::Sub %q names more than pseudo parameters", sub)
			}
			return out, nil
		}
		if join, ok := x["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := t.Resolve(p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
	}
	raw, _ := json.Marshal(v)
	return "", fmt.Errorf("template value %s is not rendered (only pseudo parameters, Ref, Fn::GetAtt, Fn::Join and Fn::Sub of pseudo parameters are)", raw)
}

func (t *Template) ref(ref string) (string, error) {
	switch ref {
	case "AWS::AccountId":
		return t.Account, nil
	case "AWS::Region":
		return t.Region, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName", "AWS::StackId":
		return "", fmt.Errorf("pseudo parameter %s is not rendered: no stack is deployed", ref)
	}
	switch t.Type(ref) {
	case "":
		return "", fmt.Errorf("a Ref to %s, which is no resource of the template", ref)
	case "AWS::SNS::Topic":
		return "arn:aws:sns:" + t.Region + ":" + t.Account + ":" + t.Name(ref), nil
	case "AWS::StepFunctions::StateMachine":
		return "arn:aws:states:" + t.Region + ":" + t.Account + ":stateMachine:" + t.Name(ref), nil
	}
	return t.Name(ref), nil
}

func (t *Template) attr(id, att string) (string, error) {
	n := t.Name(id)
	switch typ := t.Type(id); {
	case typ == "AWS::IAM::Role" && att == "Arn":
		return "arn:aws:iam::" + t.Account + ":role/" + n, nil
	case typ == "AWS::S3::Bucket" && att == "Arn":
		return "arn:aws:s3:::" + n, nil
	case typ == "AWS::SNS::Topic" && att == "TopicArn":
		return "arn:aws:sns:" + t.Region + ":" + t.Account + ":" + n, nil
	case typ == "AWS::Lambda::Function" && att == "Arn":
		return "arn:aws:lambda:" + t.Region + ":" + t.Account + ":function:" + n, nil
	case typ == "AWS::DynamoDB::Table" && att == "Arn":
		return "arn:aws:dynamodb:" + t.Region + ":" + t.Account + ":table/" + n, nil
	case typ == "AWS::StepFunctions::StateMachine" && att == "Arn":
		return "arn:aws:states:" + t.Region + ":" + t.Account + ":stateMachine:" + n, nil
	case typ == "AWS::KMS::Key" && att == "Arn":
		return "arn:aws:kms:" + t.Region + ":" + t.Account + ":key/" + n, nil
	}
	return "", fmt.Errorf("Fn::GetAtt %s.%s (%s) is not rendered", id, att, t.Type(id))
}

// Output is one stack output's value.
func (t *Template) Output(key string) (string, error) {
	o, ok := t.Outputs[key].(map[string]any)
	if !ok {
		return "", fmt.Errorf("the template has no output %s", key)
	}
	return t.Resolve(o["Value"])
}
