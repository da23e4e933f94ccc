package lakeformation

import (
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	lf "github.com/aws/aws-sdk-go-v2/service/lakeformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/pkg/access"
	"github.com/lakeforge/lakeforge/pkg/awsretry"
	"github.com/lakeforge/lakeforge/pkg/stepcontract"
	"github.com/lakeforge/lakeforge/pkg/steperr"
	"github.com/lakeforge/lakeforge/pkg/steprun"
)

// The wiring of each access-model function: what its main.go runs at cold
// start (steprun.Main) and what the template contract test starts with the
// template's environment. Each reads its settings, then its AWS
// configuration (which reports every environment problem at once).

// WireConfigureLakeFormation wires configure-lake-formation.
func WireConfigureLakeFormation(s *steprun.Step) (steprun.Handler, error) {
	var own, configured []string
	s.Env.JSON(stepcontract.EnvOwnAdmins, &own)
	s.Env.JSON(stepcontract.EnvAdmins, &configured)
	accountSettings := s.Env.String(stepcontract.EnvAccountSettings)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		return nil, &steperr.ConfigError{Field: stepcontract.EnvOwnAdmins, Fix: "lists no administrator; the stack always sets the pipeline's own roles: redeploy with `make deploy`"}
	}
	return steprun.Typed(s.Name, Handler(s.Name, &ConfigureLakeFormation{
		LF:              lf.NewFromConfig(cfg),
		Principals:      NewPrincipals(iam.NewFromConfig(cfg), own...),
		Retry:           awsretry.Default(),
		Own:             own,
		Configured:      configured,
		AccountSettings: accountSettings,
		Log:             s.Log,
	}, s.Log)), nil
}

// WireEnsureLFTags wires ensure-lf-tags.
func WireEnsureLFTags(s *steprun.Step) (steprun.Handler, error) {
	var tags map[string][]string
	var permissions []TagPermission
	s.Env.JSON(stepcontract.EnvTags, &tags)
	s.Env.JSON(stepcontract.EnvTagPermissions, &permissions)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	roles := make([]string, 0, len(permissions))
	for _, p := range permissions {
		roles = append(roles, p.Principal)
	}
	return steprun.Typed(s.Name, Handler(s.Name, &EnsureLFTags{
		LF:          lf.NewFromConfig(cfg),
		Principals:  NewPrincipals(iam.NewFromConfig(cfg), roles...),
		Retry:       awsretry.Default(),
		Tags:        tags,
		Permissions: permissions,
	}, s.Log)), nil
}

// WireRegisterLocation wires register-location.
func WireRegisterLocation(s *steprun.Step) (steprun.Handler, error) {
	location := s.Env.String(stepcontract.EnvLocationARN)
	role := s.Env.String(stepcontract.EnvLocationRoleARN)
	workflowRole := s.Env.String(stepcontract.EnvWorkflowRoleARN)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	return steprun.Typed(s.Name, Handler(s.Name, &RegisterLocation{
		LF:              lf.NewFromConfig(cfg),
		Principals:      NewPrincipals(iam.NewFromConfig(cfg), workflowRole, role),
		Retry:           awsretry.Default(),
		LocationARN:     location,
		RoleARN:         role,
		WorkflowRoleARN: workflowRole,
	}, s.Log)), nil
}

// WireEnsureDatabase wires ensure-database.
func WireEnsureDatabase(s *steprun.Step) (steprun.Handler, error) {
	name := s.Env.String(stepcontract.EnvDatabaseName)
	location := s.Env.String(stepcontract.EnvDatabaseLocation)
	tagger := s.Env.String(stepcontract.EnvTagOutputRoleARN)
	var tag stepcontract.TagRef
	s.Env.JSON(stepcontract.EnvWorkflowTag, &tag)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	return steprun.Typed(s.Name, Handler(s.Name, &EnsureDatabase{
		Glue:        glue.NewFromConfig(cfg),
		LF:          lf.NewFromConfig(cfg),
		Principals:  NewPrincipals(iam.NewFromConfig(cfg), tagger),
		Retry:       awsretry.Default(),
		Name:        name,
		LocationURI: location,
		Tag:         tag,
		TaggerRole:  tagger,
	}, s.Log)), nil
}

// WireGrantTagPermissions wires grant-tag-permissions.
func WireGrantTagPermissions(s *steprun.Step) (steprun.Handler, error) {
	workflowRole := s.Env.String(stepcontract.EnvWorkflowRoleARN)
	var analysts, configured []string
	s.Env.JSON(stepcontract.EnvAnalystARNs, &analysts)
	s.Env.JSON(stepcontract.EnvConfiguredAnalystARNs, &configured)
	var workflowTag, analystTag stepcontract.TagRef
	s.Env.JSON(stepcontract.EnvWorkflowTag, &workflowTag)
	s.Env.JSON(stepcontract.EnvAnalystTag, &analystTag)
	var gov access.Governance
	s.Env.JSON(stepcontract.EnvGovernance, &gov)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	client := lf.NewFromConfig(cfg)
	grants, superseded := GovernedGrants(AccessGrants(workflowRole, workflowTag, analysts, analystTag, configured...), analystTag, gov)
	return steprun.Typed(s.Name, Handler(s.Name, &GrantTagPermissions{
		LF:            client,
		Principals:    NewPrincipals(iam.NewFromConfig(cfg), workflowRole),
		Retry:         awsretry.Default(),
		Grants:        grants,
		Superseded:    superseded,
		Revoke:        client,
		AthenaReaders: AthenaReaders(grants, analystTag),
		Log:           s.Log,
	}, s.Log)), nil
}

// WireTagOutput wires tag-output.
func WireTagOutput(s *steprun.Step) (steprun.Handler, error) {
	database := s.Env.String(stepcontract.EnvDatabaseName)
	var tag stepcontract.TagRef
	s.Env.JSON(stepcontract.EnvAnalystTag, &tag)
	var gov access.Governance
	s.Env.JSON(stepcontract.EnvGovernance, &gov)
	namespace := s.Env.String(stepcontract.EnvMetricNamespace)
	bucket, runsPrefix := s.Env.String(stepcontract.EnvLakeBucket), s.Env.String(stepcontract.EnvRunsPrefix)
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	step := &TagOutput{
		LF:       lf.NewFromConfig(cfg),
		Retry:    awsretry.Default(),
		Database: database,
		Tag:      tag,
	}
	if gov.Enabled {
		step.Columns = &ColumnTagging{Glue: glue.NewFromConfig(cfg), LF: step.LF, Retry: step.Retry, Database: database, Sensitivity: gov.Sensitivity}
		step.Metrics = &UnclassifiedMetric{CloudWatch: cloudwatch.NewFromConfig(cfg), Namespace: namespace}
		step.Probes = &ProbeRecorder{S3: s3.NewFromConfig(cfg), Bucket: bucket, RunsPrefix: runsPrefix, AnalystValues: gov.AnalystValues,
			Grant: access.Expression{{Key: tag.Key, Values: []string{tag.Value}}, {Key: gov.Sensitivity.Key, Values: gov.AnalystValues}}.String()}
	}
	return steprun.Typed(s.Name, TagOutputHandler(s.Name, step, s.Log)), nil
}

// WireCleanupLakeFormation wires cleanup-lake-formation, the handler of the
// stack-delete custom resource: StackCleanup.Respond answers CloudFormation
// at the event's ResponseURL.
func WireCleanupLakeFormation(s *steprun.Step) (steprun.Handler, error) {
	cfg, err := s.AWSConfig()
	if err != nil {
		return nil, err
	}
	cleanup := &StackCleanup{LF: lf.NewFromConfig(cfg), Glue: glue.NewFromConfig(cfg), Retry: awsretry.Default(), Log: s.Log}
	return steprun.Typed(s.Name, cleanup.Respond), nil
}
