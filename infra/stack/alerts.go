package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// AlertsProps configures Alerts.
type AlertsProps struct {
	// Key encrypts the topic; CloudWatch alarms must be allowed to use it.
	Key awskms.IKey
	// Emails are subscribed to the topic (each confirms by mail).
	Emails []string
}

// Alerts is the failure topic: the state machine publishes a notice for
// every failed run; alarms publish here too.
type Alerts struct {
	constructs.Construct
	FailureTopic awssns.ITopic
}

// NewAlerts makes the failure topic and its email subscriptions.
func NewAlerts(scope constructs.Construct, id string, props *AlertsProps) *Alerts {
	c := constructs.NewConstruct(scope, jsii.String(id))
	topic := awssns.NewTopic(c, jsii.String("FailureTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("lakeforge failures"),
		MasterKey:   props.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, email := range props.Emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return &Alerts{Construct: c, FailureTopic: topic}
}
