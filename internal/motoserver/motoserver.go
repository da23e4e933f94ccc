// Package motoserver starts the moto AWS API emulator on the loopback
// interface for tests, one server per test binary.
//
// The tests of a package share one server and call Reset between cases. A
// package's TestMain calls Main, which runs the tests and stops the server
// that the first Current started. Nothing here reaches beyond 127.0.0.1, and the credentials are
// dummies that only moto accepts.
package motoserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/lakeforge/lakeforge/internal/testtier"
)

// Region is the region every test client uses.
const Region = "us-east-1"

// AccountID is moto's default account.
const AccountID = "123456789012"

// Server is a running moto server.
type Server struct {
	URL string
	cmd *exec.Cmd
}

var (
	current  *Server
	startErr error
	once     sync.Once
)

// Main runs the package's tests and stops moto if a test started it. The
// server starts on the first Current, so the tests of the package that need
// no emulator run without one (`make test-unit`).
func Main(m *testing.M) {
	code := m.Run()
	if current != nil {
		current.Stop()
	}
	os.Exit(code)
}

// Current returns the package's server, starting it on the first call. In
// the unit tier the test is skipped; otherwise a server that cannot start
// fails the test: the emulator tier is part of `make test`.
func Current(t testing.TB) *Server {
	t.Helper()
	testtier.External(t, "the moto server (Python)")
	once.Do(func() { current, startErr = Start() })
	if startErr != nil {
		t.Fatal("motoserver:", startErr)
	}
	return current
}

// Start runs `python3 -m moto.server` on a free loopback port and waits until
// it answers. Set LAKEFORGE_PYTHON to use another interpreter.
func Start() (*Server, error) {
	python := os.Getenv("LAKEFORGE_PYTHON")
	if python == "" {
		python = "python3"
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(python, "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s -m moto.server: %w (install it with pip install 'moto[server]')", python, err)
	}
	srv := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("moto.server exited: %v: %s", err, stderr.String())
		default:
		}
		resp, err := http.Get(srv.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return srv, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.Stop()
	return nil, errors.New("moto.server did not answer within 30s: " + stderr.String())
}

// Stop ends the server and its children.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// Reset forgets every resource, so each test starts from an empty account.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	resp, err := http.Post(s.URL+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
}

// Config returns an AWS SDK configuration that talks only to this server.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(s.URL),
		// Tests assert on single calls; the SDK's retries would hide them.
		RetryMaxAttempts: 1,
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Context returns a context for one test, bounded so a hung emulator fails
// the test instead of the whole run. The bound is no speed goal: on a loaded
// 2-core machine a whole moto fixture took 39 s, so it is generous.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
