package preflight

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakeforge/lakeforge/pkg/config"
)

// HandshakeKind classifies the outcome of a direct database handshake.
type HandshakeKind string

const (
	HandshakeOK            HandshakeKind = "ok"
	HandshakeWrongPassword HandshakeKind = "wrong-password"
	HandshakeUnknownDB     HandshakeKind = "unknown-database"
	HandshakeDBAccess      HandshakeKind = "database-access-denied"
	HandshakeRefused       HandshakeKind = "connection-refused"
	HandshakeTimeout       HandshakeKind = "timeout"
	HandshakeHostNotFound  HandshakeKind = "host-not-found"
	HandshakeTLS           HandshakeKind = "tls"
	HandshakeOther         HandshakeKind = "other"
)

// HandshakeResult is what the direct handshake found.
type HandshakeResult struct {
	Kind    HandshakeKind
	Message string
	Fix     string
	// Err is the driver's error, for the evidence.
	Err error
}

// DefaultHandshakeTimeout bounds the direct handshake.
const DefaultHandshakeTimeout = 10 * time.Second

// Handshake logs in to the database directly from this machine, with TLS
// when t.RequireTLS, and classifies the outcome. It never takes longer
// than timeout.
func Handshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration) HandshakeResult {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	switch t.Engine {
	case config.EnginePostgreSQL:
		err = postgresHandshake(ctx, t, creds, timeout)
	case config.EngineMySQL, config.EngineMariaDB:
		err = mysqlHandshake(ctx, t, creds, timeout)
	default:
		return HandshakeResult{Kind: HandshakeOther, Message: "engine " + strconv.Quote(t.Engine) + " is not supported", Fix: "set source.engine to one of " + strings.Join(config.SupportedEngines, ", ")}
	}
	return classifyHandshake(t, creds, timeout, err)
}

func postgresHandshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration) error {
	mode := "prefer"
	if t.RequireTLS {
		// Encrypted; the server certificate is not verified because RDS
		// certificates chain to the RDS CA, not to the system roots.
		mode = "require"
	}
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=%s connect_timeout=%d",
		quoteDSN(t.Host), t.Port, quoteDSN(t.Database), mode, int(timeout.Seconds()+0.999)))
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = creds.Username, creds.Password
	cfg.ConnectTimeout = timeout
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return conn.Close(context.Background())
}

// quoteDSN quotes a keyword/value connection string value.
func quoteDSN(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

type discardLogger struct{}

func (discardLogger) Print(...any) {}

func mysqlHandshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration) error {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd = creds.Username, creds.Password
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	cfg.DBName = t.Database
	// The context bounds the handshake; the socket timeouts are a backstop
	// set later so that the driver reports the context's deadline rather
	// than its generic "invalid connection".
	cfg.Timeout = timeout
	cfg.ReadTimeout, cfg.WriteTimeout = timeout+2*time.Second, timeout+2*time.Second
	// The driver would print its own copy of every error to stderr.
	cfg.Logger = discardLogger{}
	if t.RequireTLS {
		// Encrypted, certificate not verified (see postgresHandshake).
		cfg.TLS = &tls.Config{InsecureSkipVerify: true, ServerName: t.Host} //nolint:gosec // RDS CA is not in the system roots
	} else {
		cfg.TLSConfig = "preferred"
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	conn, err := connector.Connect(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w (driver: %v)", ctx.Err(), err)
		}
		return err
	}
	return conn.Close()
}

func classifyHandshake(t Target, creds Credentials, timeout time.Duration, err error) HandshakeResult {
	addr := net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	r := HandshakeResult{Err: err}
	var pgErr *pgconn.PgError
	var myErr *mysql.MySQLError
	var dnsErr *net.DNSError
	switch {
	case err == nil:
		r.Kind = HandshakeOK
		r.Message = fmt.Sprintf("logged in to %s database %q at %s as %q", t.Engine, t.Database, addr, creds.Username)
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"),
		errors.As(err, &myErr) && myErr.Number == 1045:
		r.Kind = HandshakeWrongPassword
		r.Message = fmt.Sprintf("%s at %s rejected user %q: wrong password (or no such user)", t.Engine, addr, creds.Username)
		r.Fix = "put the database user's real password in the secret: aws secretsmanager put-secret-value --secret-id " + t.SecretID + ` --secret-string '{"username":"...","password":"..."}'`
	case errors.As(err, &pgErr) && pgErr.Code == "3D000",
		errors.As(err, &myErr) && myErr.Number == 1049:
		r.Kind = HandshakeUnknownDB
		r.Message = fmt.Sprintf("database %q does not exist on %s", t.Database, addr)
		r.Fix = "set source.databaseName in cdk.json to an existing database on the server, or create it"
	case errors.As(err, &myErr) && myErr.Number == 1044:
		r.Kind = HandshakeDBAccess
		r.Message = fmt.Sprintf("user %q may not use database %q on %s (or it does not exist)", creds.Username, t.Database, addr)
		r.Fix = "GRANT SELECT ON `" + t.Database + "`.* TO the user (and SHOW VIEW for views), or fix source.databaseName"
	case errors.Is(err, syscall.ECONNREFUSED):
		r.Kind = HandshakeRefused
		r.Message = fmt.Sprintf("connection to %s refused: nothing listens on port %d", addr, t.Port)
		r.Fix = fmt.Sprintf("check source.port (%d) and that the database is running; a refusal means the host answered, so routing works", t.Port)
	case errors.Is(err, context.DeadlineExceeded) || isNetTimeout(err):
		r.Kind = HandshakeTimeout
		r.Message = fmt.Sprintf("no answer from %s within %s", addr, timeout)
		r.Fix = "the packets are dropped or the server does not speak the protocol: allow this machine (or, for Glue, the connection's security group) inbound on port " + strconv.Itoa(t.Port) + " in the database's security group, check network ACLs and routes, and check that source.host and source.port point at the database"
	case errors.As(err, &dnsErr):
		r.Kind = HandshakeHostNotFound
		r.Message = fmt.Sprintf("host %q does not resolve from this machine: %v", t.Host, dnsErr)
		r.Fix = "check source.host; RDS private names resolve only inside the VPC (then rely on glue:TestConnection)"
	case errors.Is(err, mysql.ErrNoTLS) || isTLSError(err):
		r.Kind = HandshakeTLS
		r.Message = fmt.Sprintf("TLS with %s failed: %v", addr, err)
		r.Fix = "enable TLS on the database, or set source.requireTls to false if it cannot offer TLS"
	default:
		r.Kind = HandshakeOther
		r.Message = fmt.Sprintf("handshake with %s failed: %v", addr, err)
		r.Fix = "read the driver's message above"
	}
	return r
}

func isNetTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isTLSError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "tls") || strings.Contains(msg, "ssl") || strings.Contains(msg, "x509")
}

// HandshakeCheck runs the direct handshake and reports it as a check.
// Failing to reach the database from this machine is not a failure of the
// connection (Glue reaches it from inside the VPC), so refused, timeout
// and unknown host are NotReachable; a login the server rejects fails.
func HandshakeCheck(ctx context.Context, t Target, creds *Credentials, timeout time.Duration) Check {
	ch := Check{Name: CheckHandshake}
	if creds == nil {
		ch.Status = NotRun
		ch.Summary = "needs the username and password from the secret, which the secret check could not read"
		return ch
	}
	r := Handshake(ctx, t, *creds, timeout)
	ch.Summary = r.Message
	ch.Fix = r.Fix
	if r.Err != nil {
		ch.Evidence = append(ch.Evidence, "driver: "+r.Err.Error())
	}
	switch r.Kind {
	case HandshakeOK:
		ch.Status = Pass
	case HandshakeRefused, HandshakeTimeout, HandshakeHostNotFound:
		ch.Status = NotReachable
		ch.Evidence = append(ch.Evidence, "expected when the database is private and this machine is outside its VPC; glue:TestConnection is the handshake from inside")
	default:
		ch.Status = Fail
	}
	return ch
}

// AddCheck appends a check and recomputes the outcome.
func (r *Report) AddCheck(c Check) {
	r.Checks = append(r.Checks, c)
	r.finish()
}
