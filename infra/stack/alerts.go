package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
)

// addAlerts makes the failure topic. The state machine publishes a notice
// for every failed run; alarms publish here too.
func (s *Stack) addAlerts() {
	s.FailureTopic = awssns.NewTopic(s.Stack, jsii.String("FailureTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("lakeforge failures"),
		MasterKey:   s.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, email := range s.Config.Notifications.Emails {
		s.FailureTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
}
