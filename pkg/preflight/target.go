package preflight

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
)

// Target is what the checks look at: the connection's database endpoint,
// secret and network placement.
type Target struct {
	ConnectionName   string
	Engine           string // postgresql, mysql or mariadb
	Host             string
	Port             int
	Database         string
	SecretID         string
	RequireTLS       bool
	SubnetID         string
	AvailabilityZone string
	SecurityGroupIDs []string
}

func (t Target) String() string {
	return fmt.Sprintf("%s %s:%d/%s", t.Engine, t.Host, t.Port, t.Database)
}

// errConnectionNotFound says glue:GetConnection found no such connection.
var errConnectionNotFound = errors.New("connection not found")

// readConnection reads the deployed Glue connection into a Target, so the
// Lambda checks what is deployed rather than what it was told.
func readConnection(ctx context.Context, g GlueAPI, name string) (Target, error) {
	out, err := g.GetConnection(ctx, &glue.GetConnectionInput{Name: aws.String(name), HidePassword: true})
	if err != nil {
		var nf *gluetypes.EntityNotFoundException
		if errors.As(err, &nf) {
			return Target{}, errConnectionNotFound
		}
		return Target{}, err
	}
	if out.Connection == nil {
		return Target{}, errConnectionNotFound
	}
	t, err := targetFromConnection(name, out.Connection)
	if err != nil {
		return Target{}, &malformedConnection{err: err}
	}
	return t, nil
}

// malformedConnection is a connection Glue returned whose properties
// lakeforge cannot read: a redeploy fixes it, a retry does not.
type malformedConnection struct{ err error }

func (e *malformedConnection) Error() string { return e.err.Error() }
func (e *malformedConnection) Unwrap() error { return e.err }

func targetFromConnection(name string, c *gluetypes.Connection) (Target, error) {
	props := c.ConnectionProperties
	t := Target{ConnectionName: name, SecretID: props["SECRET_ID"]}
	t.RequireTLS = strings.EqualFold(props["JDBC_ENFORCE_SSL"], "true")
	if err := t.parseJDBCURL(props["JDBC_CONNECTION_URL"]); err != nil {
		return Target{}, err
	}
	if p := c.PhysicalConnectionRequirements; p != nil {
		t.SubnetID = aws.ToString(p.SubnetId)
		t.AvailabilityZone = aws.ToString(p.AvailabilityZone)
		t.SecurityGroupIDs = p.SecurityGroupIdList
	}
	var missing []string
	if t.SecretID == "" {
		missing = append(missing, "ConnectionProperties.SECRET_ID")
	}
	if t.SubnetID == "" {
		missing = append(missing, "PhysicalConnectionRequirements.SubnetId")
	}
	if len(t.SecurityGroupIDs) == 0 {
		missing = append(missing, "PhysicalConnectionRequirements.SecurityGroupIdList")
	}
	if len(missing) > 0 {
		return Target{}, fmt.Errorf("the connection has no %s", strings.Join(missing, ", "))
	}
	return t, nil
}

// parseJDBCURL reads jdbc:<engine>://<host>:<port>/<database>.
func (t *Target) parseJDBCURL(raw string) error {
	rest, ok := strings.CutPrefix(raw, "jdbc:")
	if !ok {
		return fmt.Errorf("JDBC_CONNECTION_URL %q does not start with \"jdbc:\"", raw)
	}
	u, err := url.Parse(rest)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("JDBC_CONNECTION_URL %q is not of the form jdbc:<engine>://<host>:<port>/<database>", raw)
	}
	t.Engine = u.Scheme
	t.Host = u.Hostname()
	t.Database = strings.TrimPrefix(u.Path, "/")
	switch {
	case u.Port() != "":
		if t.Port, err = strconv.Atoi(u.Port()); err != nil {
			return fmt.Errorf("JDBC_CONNECTION_URL %q has a bad port", raw)
		}
	case t.Engine == stepcontract.EnginePostgreSQL:
		t.Port = 5432
	default:
		t.Port = 3306
	}
	return nil
}
