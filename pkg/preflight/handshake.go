package preflight

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/lakeforge/lakeforge/pkg/stepcontract"
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
	// Verified: the login ran inside TLS whose server certificate was
	// verified.
	Verified bool
}

// DefaultHandshakeTimeout bounds the direct handshake.
const DefaultHandshakeTimeout = 10 * time.Second

// RDSCABundleURL is where AWS publishes the CA bundle that signs RDS
// server certificates (all regions).
const RDSCABundleURL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"

// HandshakeOptions say how the direct handshake protects the credentials.
// The zero value is the safe default: TLS, the server certificate verified
// against the system roots and its host name, and no password sent
// otherwise.
type HandshakeOptions struct {
	// Timeout bounds the handshake (DefaultHandshakeTimeout when 0).
	Timeout time.Duration
	// CABundleFile is a PEM file of CA certificates trusted in addition to
	// the system roots, e.g. RDS's global-bundle.pem (RDSCABundleURL).
	CABundleFile string
	// AllowUnverifiedTLS is the explicit opt-out: encrypt when the server
	// offers TLS (always when source.requireTls) but accept any
	// certificate, and fall back to plain text otherwise. Anyone in the
	// network path can then read the password.
	AllowUnverifiedTLS bool
}

// Handshake logs in to the database directly from this machine with the
// default HandshakeOptions (certificate verified against the system roots)
// and classifies the outcome. It never takes longer than timeout.
func Handshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration) HandshakeResult {
	return HandshakeWith(ctx, t, creds, HandshakeOptions{Timeout: timeout})
}

// HandshakeWith logs in to the database directly from this machine and
// classifies the outcome. Unless opts.AllowUnverifiedTLS, the credentials
// are sent only inside TLS whose server certificate chains to the system
// roots or opts.CABundleFile and names t.Host.
func HandshakeWith(ctx context.Context, t Target, creds Credentials, opts HandshakeOptions) HandshakeResult {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	var tlsCfg *tls.Config
	if !opts.AllowUnverifiedTLS {
		var err error
		if tlsCfg, err = verifyingTLS(t.Host, opts.CABundleFile); err != nil {
			return HandshakeResult{Kind: HandshakeTLS, Err: err,
				Message: "cannot load the CA bundle: " + err.Error() + "; lakeforge did not connect",
				Fix:     "point the CA bundle option at a PEM file of CA certificates (for RDS: " + RDSCABundleURL + ")"}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	switch t.Engine {
	case stepcontract.EnginePostgreSQL:
		err = postgresHandshake(ctx, t, creds, timeout, tlsCfg)
	case stepcontract.EngineMySQL, stepcontract.EngineMariaDB:
		err = mysqlHandshake(ctx, t, creds, timeout, tlsCfg)
	default:
		return HandshakeResult{Kind: HandshakeOther, Message: "engine " + strconv.Quote(t.Engine) + " is not supported", Fix: "set source.engine to one of " + strings.Join(stepcontract.SupportedEngines, ", ")}
	}
	r := classifyHandshake(t, creds, timeout, err)
	r.Verified = tlsCfg != nil && err == nil
	if err == nil && opts.AllowUnverifiedTLS {
		r.Message += " (server certificate NOT verified: the unverified-TLS opt-out is on)"
	}
	return r
}

// verifyingTLS is a TLS configuration that verifies the server's chain
// against the system roots plus the PEM bundle, and the host name.
func verifyingTLS(host, bundle string) (*tls.Config, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if bundle != "" {
		pem, err := os.ReadFile(bundle)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", bundle)
		}
	}
	return &tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

// postgresHandshake connects with verify-full semantics when tlsCfg is set
// (no plain-text fallback: the server never sees the user name or a
// password exchange outside verified TLS); otherwise with the opt-out's
// require (source.requireTls) or prefer.
func postgresHandshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration, tlsCfg *tls.Config) error {
	mode := "verify-full"
	if tlsCfg == nil {
		mode = "prefer"
		if t.RequireTLS {
			mode = "require"
		}
	}
	cfg, err := pgconn.ParseConfig(fmt.Sprintf("host=%s port=%d dbname=%s sslmode=%s connect_timeout=%d",
		quoteDSN(t.Host), t.Port, quoteDSN(t.Database), mode, int(timeout.Seconds()+0.999)))
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		cfg.TLSConfig = tlsCfg
		cfg.Fallbacks = nil
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

func mysqlHandshake(ctx context.Context, t Target, creds Credentials, timeout time.Duration, tlsCfg *tls.Config) error {
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
	switch {
	case tlsCfg != nil:
		// The driver upgrades to TLS before it sends the login packet, and
		// fails (ErrNoTLS) rather than send it in plain text.
		cfg.TLS = tlsCfg
	case t.RequireTLS:
		// The explicit opt-out: encrypted, certificate not verified.
		cfg.TLS = &tls.Config{InsecureSkipVerify: true, ServerName: t.Host} //nolint:gosec // the user opted out of verification
	default:
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
	var unknownCA x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
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
	case errors.As(err, &unknownCA):
		r.Kind = HandshakeTLS
		r.Message = fmt.Sprintf("the certificate of %s is signed by an authority this machine does not trust (%v); lakeforge did not send the password", addr, err)
		r.Fix = "pass the CA bundle that signed it (for RDS: " + RDSCABundleURL + "); only if you accept that anyone in the network path can read the password, opt out of verification"
	case errors.As(err, &wrongHost):
		r.Kind = HandshakeTLS
		r.Message = fmt.Sprintf("the certificate of %s is not for host %q (%v); lakeforge did not send the password", addr, t.Host, err)
		r.Fix = "set source.host to a name the certificate holds (for RDS the instance endpoint, not an IP address or a CNAME)"
	case errors.Is(err, mysql.ErrNoTLS) || isNoTLS(err):
		r.Kind = HandshakeTLS
		r.Message = fmt.Sprintf("%s offers no TLS; lakeforge did not send the password in plain text", addr)
		r.Fix = "enable TLS on the database (RDS offers it by default); only if you accept that anyone in the network path can read the password, opt out of verification"
	case isTLSError(err):
		r.Kind = HandshakeTLS
		r.Message = fmt.Sprintf("TLS with %s failed: %v; lakeforge did not send the password", addr, err)
		r.Fix = "enable TLS on the database and pass the CA bundle that signed its certificate (for RDS: " + RDSCABundleURL + ")"
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

// isNoTLS: the PostgreSQL server answered the TLS request with "no".
func isNoTLS(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "server refused tls connection")
}

func isTLSError(err error) bool {
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "tls") || strings.Contains(msg, "ssl") || strings.Contains(msg, "x509")
}

// HandshakeCheck runs the direct handshake with the default options and
// reports it as a check.
func HandshakeCheck(ctx context.Context, t Target, creds *Credentials, timeout time.Duration) Check {
	return HandshakeCheckWith(ctx, t, creds, HandshakeOptions{Timeout: timeout})
}

// HandshakeCheckWith runs the direct handshake and reports it as a check.
// Failing to reach the database from this machine is not a failure of the
// connection (Glue reaches it from inside the VPC), so refused, timeout
// and unknown host are NotReachable; a login the server rejects fails.
func HandshakeCheckWith(ctx context.Context, t Target, creds *Credentials, opts HandshakeOptions) Check {
	ch := Check{Name: CheckHandshake}
	if creds == nil {
		ch.Status = NotRun
		ch.Summary = "needs the username and password from the secret, which the secret check could not read"
		return ch
	}
	r := HandshakeWith(ctx, t, *creds, opts)
	ch.Summary = r.Message
	ch.Fix = r.Fix
	if r.Err != nil {
		ch.Evidence = append(ch.Evidence, "driver: "+r.Err.Error())
	}
	switch r.Kind {
	case HandshakeOK:
		ch.Status = Pass
		if r.Verified {
			ch.Evidence = append(ch.Evidence, "TLS with a verified server certificate")
		} else {
			ch.Evidence = append(ch.Evidence, "server certificate NOT verified (explicit opt-out)")
		}
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
