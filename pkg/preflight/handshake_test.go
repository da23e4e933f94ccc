package preflight

// The direct handshake against real PostgreSQL and MariaDB servers on
// loopback, started by `scripts/test-databases.sh run` (make test and
// .ci/run do). The timeout case uses a listener in the test that accepts
// TCP and never answers; the refused case a loopback port nobody listens on.

import (
	"context"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

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
					r := Handshake(ctx, tg, creds, timeout)
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
	ok := HandshakeCheck(ctx, srv.target, &srv.creds, 3*time.Second)
	if ok.Status != Pass {
		t.Fatalf("status = %s (%s), want pass", ok.Status, ok.Summary)
	}
	bad := srv.creds
	bad.Password = "nope"
	if c := HandshakeCheck(ctx, srv.target, &bad, 3*time.Second); c.Status != Fail || c.Fix == "" {
		t.Fatalf("wrong password: status %s fix %q, want fail with a fix", c.Status, c.Fix)
	}
	closed := srv.target
	closed.Port = closedPort(t)
	if c := HandshakeCheck(ctx, closed, &srv.creds, 3*time.Second); c.Status != NotReachable {
		t.Fatalf("closed port: status %s, want %s", c.Status, NotReachable)
	}
	if c := HandshakeCheck(ctx, srv.target, nil, time.Second); c.Status != NotRun {
		t.Fatalf("no credentials: status %s, want %s", c.Status, NotRun)
	}
}
