package preflight

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// MonitoringEndpoints are the APIs the import job reports to but does not
// need to finish: CloudWatch Logs (its driver and executor logs) and
// CloudWatch (the job metrics of --enable-metrics). Without a route to
// them the import still runs; its logs and metrics may be missing, so
// their absence is a warning, never a failure, and repair does not create
// them (each is billed per hour).
var MonitoringEndpoints = []AWSEndpoint{
	{
		Service:  "logs",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the job's driver and executors write their logs to CloudWatch Logs",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/monitor-continuous-logging.html",
	},
	{
		Service:  "monitoring",
		Type:     ec2types.VpcEndpointTypeInterface,
		CalledBy: "the job publishes its metrics (--enable-metrics) to CloudWatch",
		Source:   "https://docs.aws.amazon.com/glue/latest/dg/monitoring-awsglue-with-cloudwatch-metrics.html",
	},
}

// Warn is a check whose condition does not stop the import but loses
// something (here: its logs or metrics); the report still passes.
const Warn Status = "warn"

// CheckMonitoring is the check of MonitoringEndpoints.
const CheckMonitoring = "monitoring-endpoints"

// 5b. CloudWatch Logs and CloudWatch are reachable from the subnet: a NAT
// route, or an interface endpoint with private DNS for each. Missing ones
// are named in a warning.
func (c *Checker) checkMonitoringEndpoints(ctx context.Context, t Target, net *network) Check {
	ch := Check{Name: CheckMonitoring}
	if net.routeTable == nil {
		return withoutRouteTable(ch)
	}
	if net.natRoute {
		ch.Status = Pass
		ch.Summary = "the NAT route reaches CloudWatch Logs and CloudWatch"
		return ch
	}
	var services []string
	for _, e := range MonitoringEndpoints {
		services = append(services, ServiceName(c.Region, e.Service))
	}
	out, err := c.EC2.DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("vpc-id"), Values: []string{net.vpcID}},
			{Name: aws.String("service-name"), Values: services},
		},
	})
	if err != nil {
		return apiFailure(ch, "ec2:DescribeVpcEndpoints", err, "the reader needs ec2:DescribeVpcEndpoints")
	}
	var missing, fixes []string
	for i, service := range services {
		served := false
		for _, ep := range out.VpcEndpoints {
			if aws.ToString(ep.ServiceName) == service && ep.VpcEndpointType == ec2types.VpcEndpointTypeInterface &&
				endpointUsable(ep.State) && aws.ToBool(ep.PrivateDnsEnabled) {
				served = true
				ch.Evidence = append(ch.Evidence, aws.ToString(ep.VpcEndpointId)+" serves "+service+" with private DNS")
			}
		}
		if !served {
			missing = append(missing, service)
			ch.Evidence = append(ch.Evidence, service+": "+MonitoringEndpoints[i].CalledBy)
			fixes = append(fixes, createInterfaceEndpointCommand(net.vpcID, service, t.SubnetID, firstGroup(t)))
		}
	}
	if len(missing) == 0 {
		ch.Status = Pass
		ch.Summary = "interface endpoints with private DNS serve " + strings.Join(services, " and ")
		return ch
	}
	ch.Status = Warn
	ch.Summary = "no NAT route and no interface endpoint for " + strings.Join(missing, " and ") +
		": the import runs, but its logs (CloudWatch Logs) or metrics (CloudWatch) may not arrive"
	ch.Fix = strings.Join(fixes, "; ") + " (each interface endpoint is billed per hour and per GB; repair mode does not create these)"
	return ch
}
