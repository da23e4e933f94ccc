package preflight

// The direct handshake against real PostgreSQL and MariaDB servers on
// loopback, started by `scripts/test-databases.sh run` (make test and
// .ci/run do). The timeout case uses a listener in the test that accepts
// TCP and never answers; the refused case a loopback port nobody listens on.

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/lakeforge/lakeforge/internal/testtier"
	"github.com/lakeforge/lakeforge/pkg/config"
)

const (
	defaultPostgresDSN = "postgres://lakeforge_test:testing@127.0.0.1:5432/lakeforge_test"
	defaultMySQLDSN    = "lakeforge_test:testing@tcp(127.0.0.1:3306)/lakeforge_test"
)

// testServer is one database server the tests log in to.
type testServer struct {
	target Target
	creds  Credentials
	// opts trust the test CA that signed the server's certificate.
	opts HandshakeOptions
}

// testCA is the CA that signed the test servers' certificates.
func testCA(t *testing.T) string {
	t.Helper()
	testtier.External(t, "the test database servers of scripts/test-databases.sh")
	ca := os.Getenv("LAKEFORGE_TEST_DB_CA")
	if ca == "" {
		t.Fatal("LAKEFORGE_TEST_DB_CA is not set: run the tests through `make test` or `scripts/test-databases.sh run go test ./pkg/preflight/...`, which start TLS servers signed by a test CA")
	}
	return ca
}

func postgresServer(t *testing.T) testServer {
	t.Helper()
	dsn := os.Getenv("LAKEFORGE_TEST_POSTGRES_DSN")
	if dsn == "" {
		dsn = defaultPostgresDSN
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("LAKEFORGE_TEST_POSTGRES_DSN %q: %v", dsn, err)
	}
	port, _ := strconv.Atoi(u.Port())
	pw, _ := u.User.Password()
	s := testServer{
		target: Target{Engine: config.EnginePostgreSQL, Host: u.Hostname(), Port: port, Database: strings.TrimPrefix(u.Path, "/"), SecretID: "test-secret"},
		creds:  Credentials{Username: u.User.Username(), Password: pw},
		opts:   HandshakeOptions{CABundleFile: testCA(t)},
	}
	requireListening(t, s.target, "LAKEFORGE_TEST_POSTGRES_DSN")
	return s
}

func mysqlServer(t *testing.T) testServer {
	t.Helper()
	dsn := os.Getenv("LAKEFORGE_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = defaultMySQLDSN
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("LAKEFORGE_TEST_MYSQL_DSN %q: %v", dsn, err)
	}
	host, portStr, _ := net.SplitHostPort(cfg.Addr)
	port, _ := strconv.Atoi(portStr)
	s := testServer{
		target: Target{Engine: config.EngineMariaDB, Host: host, Port: port, Database: cfg.DBName, SecretID: "test-secret"},
		creds:  Credentials{Username: cfg.User, Password: cfg.Passwd},
		opts:   HandshakeOptions{CABundleFile: testCA(t)},
	}
	requireListening(t, s.target, "LAKEFORGE_TEST_MYSQL_DSN")
	return s
}

// requireListening fails (never skips) when the server is not up.
func requireListening(t *testing.T, tg Target, envVar string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(tg.Host, strconv.Itoa(tg.Port)), 2*time.Second)
	if err != nil {
		t.Fatalf("no %s server at %s:%d (%v): run the tests through `make test` (it starts throwaway servers), or `scripts/test-databases.sh run go test ./...`, or point %s at a test server", tg.Engine, tg.Host, tg.Port, err, envVar)
	}
	c.Close()
}

// silentListener accepts TCP connections and never writes a byte, like a
// host whose database process hangs; it stands in for a dropped packet.
func silentListener(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestHandshake(t *testing.T) {
	servers := map[string]func(*testing.T) testServer{
		"postgresql": postgresServer,
		"mariadb":    mysqlServer,
	}
	for name, get := range servers {
		t.Run(name, func(t *testing.T) {
			srv := get(t)
			ctx := context.Background()
			const timeout = 3 * time.Second
			cases := []struct {
				name     string
				mutate   func(*Target, *Credentials)
				kind     HandshakeKind
				contains []string
			}{
				{"success", func(*Target, *Credentials) {}, HandshakeOK, []string{"logged in to", `database "` + srv.target.Database + `"`}},
				{"wrong password", func(_ *Target, c *Credentials) { c.Password = "not-the-password" }, HandshakeWrongPassword, []string{"rejected user", "wrong password", "put-secret-value"}},
				{"unknown database", func(tg *Target, _ *Credentials) { tg.Database = "lakeforge_test_missing" }, HandshakeUnknownDB, []string{`database "lakeforge_test_missing" does not exist`, "source.databaseName"}},
				{"closed port", func(tg *Target, _ *Credentials) { tg.Port = closedPort(t) }, HandshakeRefused, []string{"refused: nothing listens on port", "source.port"}},
				{"timeout", func(tg *Target, _ *Credentials) { tg.Port = silentListener(t) }, HandshakeTimeout, []string{"no answer from", "within 3s", "security group"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					tg, creds := srv.target, srv.creds
					c.mutate(&tg, &creds)
					start := time.Now()
					opts := srv.opts
					opts.Timeout = timeout
					r := HandshakeWith(ctx, tg, creds, opts)
					if elapsed := time.Since(start); elapsed > timeout+2*time.Second {
						t.Errorf("handshake took %s, beyond its %s bound", elapsed, timeout)
					}
					if r.Kind != c.kind {
						t.Fatalf("kind = %s (%s; err %v), want %s", r.Kind, r.Message, r.Err, c.kind)
					}
					text := r.Message + " | " + r.Fix
					for _, want := range c.contains {
						if !strings.Contains(text, want) {
							t.Errorf("message %q lacks %q", text, want)
						}
					}
					if strings.Contains(text, srv.creds.Password) && srv.creds.Password != "" {
						t.Errorf("message leaks the password: %q", text)
					}
				})
			}
		})
	}
}

// The CLI reports what it cannot reach as not-reachable (the database may
// be private), and a rejected login as a failure.
func TestHandshakeCheckStatuses(t *testing.T) {
	srv := postgresServer(t)
	ctx := context.Background()
	opts := srv.opts
	opts.Timeout = 3 * time.Second
	ok := HandshakeCheckWith(ctx, srv.target, &srv.creds, opts)
	if ok.Status != Pass {
		t.Fatalf("status = %s (%s), want pass", ok.Status, ok.Summary)
	}
	bad := srv.creds
	bad.Password = "nope"
	if c := HandshakeCheckWith(ctx, srv.target, &bad, opts); c.Status != Fail || c.Fix == "" {
		t.Fatalf("wrong password: status %s fix %q, want fail with a fix", c.Status, c.Fix)
	}
	closed := srv.target
	closed.Port = closedPort(t)
	if c := HandshakeCheckWith(ctx, closed, &srv.creds, opts); c.Status != NotReachable {
		t.Fatalf("closed port: status %s, want %s", c.Status, NotReachable)
	}
	if c := HandshakeCheck(ctx, srv.target, nil, time.Second); c.Status != NotRun {
		t.Fatalf("no credentials: status %s, want %s", c.Status, NotRun)
	}
}

// The handshake verifies the server's certificate by default: the real
// servers' certificates are signed by a test CA that is not among the
// system roots, so the default refuses them (before any password is
// sent), the CA bundle option accepts them, and the explicit opt-out
// connects but says the certificate was not verified.
func TestHandshakeVerifiesCertificates(t *testing.T) {
	servers := map[string]func(*testing.T) testServer{
		"postgresql": postgresServer,
		"mariadb":    mysqlServer,
	}
	for name, get := range servers {
		t.Run(name, func(t *testing.T) {
			srv := get(t)
			ctx := context.Background()
			for _, requireTLS := range []bool{false, true} {
				tg := srv.target
				tg.RequireTLS = requireTLS

				r := HandshakeWith(ctx, tg, srv.creds, HandshakeOptions{Timeout: 5 * time.Second})
				if r.Kind != HandshakeTLS || r.Verified {
					t.Fatalf("requireTls=%t, system roots only: kind %s verified %t (%s), want a TLS refusal", requireTLS, r.Kind, r.Verified, r.Message)
				}
				for _, want := range []string{"does not trust", "did not send the password", RDSCABundleURL} {
					if !strings.Contains(r.Message+" | "+r.Fix, want) {
						t.Errorf("refusal %q lacks %q", r.Message+" | "+r.Fix, want)
					}
				}
				if c := HandshakeCheckWith(ctx, tg, &srv.creds, HandshakeOptions{Timeout: 5 * time.Second}); c.Status != Fail {
					t.Errorf("check status %s for an untrusted certificate, want fail", c.Status)
				}

				r = HandshakeWith(ctx, tg, srv.creds, HandshakeOptions{Timeout: 5 * time.Second, CABundleFile: srv.opts.CABundleFile})
				if r.Kind != HandshakeOK || !r.Verified {
					t.Fatalf("requireTls=%t, with the CA bundle: kind %s verified %t (%s; %v), want a verified login", requireTLS, r.Kind, r.Verified, r.Message, r.Err)
				}

				r = HandshakeWith(ctx, tg, srv.creds, HandshakeOptions{Timeout: 5 * time.Second, AllowUnverifiedTLS: true})
				if r.Kind != HandshakeOK || r.Verified || !strings.Contains(r.Message, "NOT verified") {
					t.Fatalf("requireTls=%t, opted out: kind %s verified %t (%s), want a login that says it is unverified", requireTLS, r.Kind, r.Verified, r.Message)
				}
			}

		})
	}
}

func TestHandshakeBadCABundle(t *testing.T) {
	notPEM := t.TempDir() + "/bundle.pem"
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := Target{Engine: config.EnginePostgreSQL, Host: "127.0.0.1", Port: closedPort(t), Database: "x"}
	for _, file := range []string{notPEM, t.TempDir() + "/missing.pem"} {
		r := HandshakeWith(context.Background(), tg, Credentials{Username: "u", Password: "p"}, HandshakeOptions{CABundleFile: file})
		if r.Kind != HandshakeTLS || !strings.Contains(r.Message, "CA bundle") || !strings.Contains(r.Message, file) {
			t.Errorf("%s: kind %s message %q, want a CA bundle error naming the file", file, r.Kind, r.Message)
		}
	}
}

// A PostgreSQL server that answers the TLS request with "no": the default
// handshake stops there, so the startup message (with the user name) and
// any password exchange never reach the server.
func TestHandshakeSendsNothingWithoutTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	received := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			received <- -1
			return
		}
		defer c.Close()
		req := make([]byte, 8) // SSLRequest: length 8, code 80877103
		if _, err := io.ReadFull(c, req); err != nil {
			received <- -1
			return
		}
		if _, err := c.Write([]byte("N")); err != nil {
			received <- -1
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		rest, _ := io.ReadAll(c)
		received <- len(rest)
	}()
	tg := Target{Engine: config.EnginePostgreSQL, Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Database: "kthr01"}
	r := HandshakeWith(context.Background(), tg, Credentials{Username: "importer", Password: "secret"}, HandshakeOptions{Timeout: 3 * time.Second})
	if r.Kind != HandshakeTLS || !strings.Contains(r.Message, "offers no TLS") || !strings.Contains(r.Message, "did not send the password") {
		t.Fatalf("kind %s message %q (%v), want a refusal for a server without TLS", r.Kind, r.Message, r.Err)
	}
	select {
	case n := <-received:
		if n != 0 {
			t.Fatalf("the server received %d bytes after refusing TLS, want none", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fake server did not finish")
	}
}
