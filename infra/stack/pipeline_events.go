package stack

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/lakeforge/lakeforge/pkg/importrun"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// ImportEventsFunction is the function that releases the import's task token.
const ImportEventsFunction = "import-events"

// ImportEvents are the rules that feed the import-events function.
type ImportEvents struct {
	JobRule      awsevents.Rule
	CrawlerRule  awsevents.Rule // nil when the workflow has no crawler
	FallbackRule awsevents.Rule
	Function     StepFunction
}

// addTokenTable makes the table where StartImport keeps each waiting
// execution's task token. A token ends the wait of whoever holds it, so it
// is kept here (IAM-controlled, encrypted at rest, its items never logged)
// and never in Glue workflow run properties, which may be logged.
func (s *Stack) addTokenTable() awsdynamodb.Table {
	t := awsdynamodb.NewTable(s.Stack, jsii.String("ImportTokens"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String(importrun.AttrRunID), Type: awsdynamodb.AttributeType_STRING},
		SortKey:             &awsdynamodb.Attribute{Name: jsii.String(importrun.AttrExecutionName), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(importrun.AttrExpiresAt),
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:       awscdk.RemovalPolicy_DESTROY,
	})
	cdknag.NagSuppressions_AddResourceSuppressions(t, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-DDB3"),
		Reason: jsii.String("The table holds only the task tokens of waiting executions, each for at most a day: a point-in-time backup would only keep credentials around longer."),
	}}, jsii.Bool(true))
	return t
}

// importEnd reads the import workflow from the stack: its crawlers, and the
// crawler that runs after the import job succeeded, if any (then its
// success ends the import; otherwise the job's does).
func (s *Stack) importEnd() (endCrawler string, crawlers []string) {
	job := s.Config.Names().ImportJob
	crawlers = []string{} // encoded "[]", never "null"
	for _, c := range *s.Stack.Node().FindAll(constructs.ConstructOrder_PREORDER) {
		switch r := c.(type) {
		case awsglue.CfnCrawler:
			crawlers = append(crawlers, *r.Name())
		case awsglue.CfnTrigger:
			var pred struct {
				Conditions []struct {
					JobName string `json:"jobName"`
					State   string `json:"state"`
				} `json:"conditions"`
			}
			var actions []struct {
				CrawlerName string `json:"crawlerName"`
			}
			if b, err := json.Marshal(r.Predicate()); err == nil {
				_ = json.Unmarshal(b, &pred)
			}
			if b, err := json.Marshal(r.Actions()); err == nil {
				_ = json.Unmarshal(b, &actions)
			}
			for _, cond := range pred.Conditions {
				if cond.JobName == job && cond.State == "SUCCEEDED" {
					for _, a := range actions {
						if a.CrawlerName != "" {
							endCrawler = a.CrawlerName
						}
					}
				}
			}
		}
	}
	slices.Sort(crawlers)
	return endCrawler, crawlers
}

// addImportEvents deploys the import-events function and the rules that
// invoke it: the import job's end states, the workflow crawlers' end
// states (in their mixed case), and the fallback schedule.
func (s *Stack) addImportEvents(tokens awsdynamodb.Table) *ImportEvents {
	names := s.Config.Names()
	tag, ok := s.Steps["tag-output"]
	if !ok {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String("the import events need the tag-output step function: add functions/tag-output and its s.addStep"))
		return nil
	}
	endCrawler, crawlers := s.importEnd()
	fn := s.addStep(&StepFunctionProps{
		Name:        ImportEventsFunction,
		Description: "lakeforge import-events: releases the pipeline's wait when the import ends (Glue events, or the fallback check) and has runs outside the pipeline tagged",
		Environment: map[string]*string{
			importrun.EnvWorkflowName:   jsii.String(names.Workflow),
			importrun.EnvTokenTable:     tokens.TableName(),
			importrun.EnvTimeoutMinutes: jsii.String(strconv.Itoa(s.Config.Import.WaitTimeoutMinutes)),
			importrun.EnvImportJob:      jsii.String(names.ImportJob),
			importrun.EnvEndCrawler:     jsii.String(endCrawler),
			importrun.EnvCrawlers:       jsii.String(stepcontract.Encode(crawlers)),
			importrun.EnvTagFunction:    tag.Function().FunctionName(),
		},
		Statements: []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadImportRun"),
				Actions:   jsii.Strings("glue:GetWorkflowRun", "glue:GetWorkflowRuns"),
				Resources: jsii.Strings(arn("glue", "workflow/"+names.Workflow)),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadAndForgetTaskTokens"),
				Actions:   jsii.Strings("dynamodb:Scan", "dynamodb:DeleteItem"),
				Resources: &[]*string{tokens.TableArn()},
			}),
			// The claim that a run is tagged (importrun.DynamoTokens.Claim):
			// a PutItem of the key and the TTL only, never a token.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ClaimTaggedRuns"),
				Actions:   jsii.Strings("dynamodb:PutItem"),
				Resources: &[]*string{tokens.TableArn()},
				Conditions: &map[string]any{
					"ForAllValues:StringEquals": map[string]any{"dynamodb:Attributes": []string{importrun.AttrRunID, importrun.AttrExecutionName, importrun.AttrExpiresAt}},
				},
			}),
			// states:SendTask* take no resource-level permissions (the IAM
			// console: "only support the all resources wildcard"; aws-cdk
			// discussion 26401): the task token itself says which task.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReleaseTheWait"),
				Actions:   jsii.Strings("states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("TagRunsOutsideThePipeline"),
				Actions:   jsii.Strings("lambda:InvokeFunction"),
				Resources: &[]*string{tag.Function().FunctionArn()},
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role().Node().Scope(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("states:SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat have no resource-level permissions: the task token names the task."),
		AppliesTo: &[]any{"Resource::*"},
	}}, jsii.Bool(true))
	target := func() awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn.Function(), &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(4),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(2)),
		})
	}
	ev := &ImportEvents{Function: fn}
	ev.JobRule = awsevents.NewRule(s.Stack, jsii.String("ImportJobEnded"), &awsevents.RuleProps{
		Description: jsii.String("lakeforge: the import job ended; release the pipeline's wait"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(importrun.GlueSource),
			DetailType: jsii.Strings(importrun.JobStateChange),
			Detail: &map[string]any{
				"jobName": []string{names.ImportJob},
				"state":   importrun.JobEndStates,
			},
		},
		Targets: &[]awsevents.IRuleTarget{target()},
	})
	if len(crawlers) > 0 {
		ev.CrawlerRule = awsevents.NewRule(s.Stack, jsii.String("ImportCrawlerEnded"), &awsevents.RuleProps{
			Description: jsii.String("lakeforge: a crawler of the import workflow ended; release the pipeline's wait"),
			EventPattern: &awsevents.EventPattern{
				Source:     jsii.Strings(importrun.GlueSource),
				DetailType: jsii.Strings(importrun.CrawlerStateChange),
				Detail: &map[string]any{
					"crawlerName": crawlers,
					"state":       importrun.CrawlerEndStates,
				},
			},
			Targets: &[]awsevents.IRuleTarget{target()},
		})
	}
	ev.FallbackRule = awsevents.NewRule(s.Stack, jsii.String("ImportFallbackCheck"), &awsevents.RuleProps{
		Description: jsii.String("lakeforge: Glue events are best effort; read the runs still awaited and release those that ended"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(importrun.FallbackInterval.Minutes()))),
		Targets:     &[]awsevents.IRuleTarget{target()},
	})

	// Outside the state machine nothing else reports a failure of the
	// event handling: an event EventBridge could not deliver, or one Lambda
	// dropped after its asynchronous retries (import-events itself, or the
	// TagOutput it invokes for runs started outside the pipeline).
	period := &awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")}
	rules := []awsevents.Rule{ev.JobRule, ev.FallbackRule}
	if ev.CrawlerRule != nil {
		rules = append(rules, ev.CrawlerRule)
	}
	for i, rule := range rules {
		s.alarmOnFailureTopic("ImportEventsUndeliveredAlarm"+strconv.Itoa(i), "lakeforge: EventBridge could not invoke import-events (rule "+*rule.Node().Id()+"); the pipeline's wait ends at the next fallback check or its timeout", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/Events"),
			MetricName:    jsii.String("FailedInvocations"),
			DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
			Period:        period.Period,
			Statistic:     period.Statistic,
		}))
	}
	s.alarmOnFailureTopic("ImportEventsDroppedAlarm", "lakeforge: import-events failed on every retry; its log group says why", fn.Function().Metric(jsii.String("AsyncEventsDropped"), period))
	s.alarmOnFailureTopic("PostImportTaggingDroppedAlarm", "lakeforge: TagOutput failed on every retry after an import that ended outside the pipeline; the lake database may lack the analyst tag until the next daily run", tag.Function().Metric(jsii.String("AsyncEventsDropped"), period))
	return ev
}
