package config

// The source database and its network.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	_ "time/tzdata" // time zones must validate the same on every machine and in Lambda
)

func (c Config) validateSource(v *validator) {
	s := c.Source
	if !slices.Contains(SupportedEngines, s.Engine) {
		v.add("source.engine", s.Engine, "one of "+strings.Join(SupportedEngines, ", "))
	}
	if why := hostProblem(s.Host); why != "" {
		v.add("source.host", s.Host, "the database's DNS name or IPv4 address, e.g. mydb.abc123.eu-west-1.rds.amazonaws.com: "+why)
	}
	if s.Port < 1 || s.Port > 65535 {
		v.add("source.port", strconv.Itoa(s.Port), "a TCP port from 1 to 65535 (PostgreSQL 5432, MySQL/MariaDB 3306)")
	}
	if s.DatabaseName == "" || strings.ContainsAny(s.DatabaseName, "/?;&= ") {
		v.add("source.databaseName", s.DatabaseName, "the source database's name, without '/', '?', ';', '&', '=' or spaces")
	}
	if s.SecretARN == "" {
		v.add("source.secretArn", s.SecretARN, "the ARN of a Secrets Manager secret with \"username\" and \"password\" keys (required)")
	} else if !secretARNPattern.MatchString(s.SecretARN) {
		v.add("source.secretArn", s.SecretARN, "a complete Secrets Manager secret ARN, arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>")
	}
	if s.SecretKMSKeyARN != "" && !kmsKeyARNPattern.MatchString(s.SecretKMSKeyARN) {
		v.add("source.secretKmsKeyArn", s.SecretKMSKeyARN, "the key ARN (not an alias) of the customer managed KMS key that encrypts source.secretArn, arn:aws:kms:<region>:<account>:key/<key-id>, or empty for aws/secretsmanager")
	}
	for i, p := range s.IncludePaths {
		if p == "" || strings.HasPrefix(p, "/") {
			v.add(fmt.Sprintf("source.includePaths[%d]", i), p, "an include path such as <database>/<schema>/% (PostgreSQL) or <database>/% (MySQL)")
		}
	}
}

// hostProblem says why host is no DNS name or IPv4 address, or "".
func hostProblem(host string) string {
	switch {
	case host == "":
		return "required"
	case len(host) > 253:
		return fmt.Sprintf("at most 253 characters (this one has %d)", len(host))
	case ipv4FormPattern.MatchString(host):
		for _, part := range strings.Split(host, ".") {
			if n, err := strconv.Atoi(part); err != nil || n > 255 || len(part) > 3 {
				return "each part of an IPv4 address from 0 to 255"
			}
		}
		return ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return "no empty label (no leading, trailing or adjacent dots)"
		}
		if !hostLabelPattern.MatchString(label) {
			return fmt.Sprintf("labels of 1 to 63 letters, digits or '-', not beginning or ending with '-' (%q is not)", label)
		}
	}
	return ""
}

// RegionOfZone is the region of an availability zone name such as
// eu-west-1a, or "" when az is not one.
func RegionOfZone(az string) string {
	if !azPattern.MatchString(az) {
		return ""
	}
	return az[:len(az)-1]
}

// RegionOfARN is the region field of an ARN, or "" when arn has none.
func RegionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[3]
}

func (c Config) validateNetwork(v *validator) {
	n := c.Network
	if zr, sr := RegionOfZone(n.AvailabilityZone), RegionOfARN(c.Source.SecretARN); zr != "" && sr != "" && secretARNPattern.MatchString(c.Source.SecretARN) && zr != sr {
		v.add("network.availabilityZone", n.AvailabilityZone, fmt.Sprintf("a zone of %s, the region of source.secretArn: the zone is in %s, and the subnet, the Glue connection and the secret must be in the stack's one region", sr, zr))
	}
	if !vpcIDPattern.MatchString(n.VPCID) {
		v.add("network.vpcId", n.VPCID, "a VPC id such as vpc-0123456789abcdef0")
	}
	if !subnetIDPattern.MatchString(n.SubnetID) {
		v.add("network.subnetId", n.SubnetID, "a subnet id such as subnet-0123456789abcdef0 (a subnet that can reach the database)")
	}
	if !azPattern.MatchString(n.AvailabilityZone) {
		v.add("network.availabilityZone", n.AvailabilityZone, "the subnet's availability zone, e.g. eu-west-1a")
	}
	if len(n.SecurityGroupIDs) == 0 {
		v.add("network.securityGroupIds", "[]", "at least one security group id for Glue's network interfaces")
	}
	for i, sg := range n.SecurityGroupIDs {
		if !sgIDPattern.MatchString(sg) {
			v.add(fmt.Sprintf("network.securityGroupIds[%d]", i), sg, "a security group id such as sg-0123456789abcdef0")
		}
	}
	for i, rt := range n.RouteTableIDs {
		if !rtbIDPattern.MatchString(rt) {
			v.add(fmt.Sprintf("network.routeTableIds[%d]", i), rt, "a route table id such as rtb-0123456789abcdef0")
		}
	}
}
