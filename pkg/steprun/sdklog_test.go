package steprun

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakeforge/lakeforge/pkg/lambdaenv"
)

// The SDK's own log lines go to the step's JSON log, not as raw text on
// stderr: an S3 object read without a checksum (moto, or an object
// uploaded without one) makes the SDK log "Response has no supported
// checksum" at debug level, which the step's INFO level drops; a warning
// would be a JSON record with the step's attributes.
func TestSDKLogLinesGoToTheStepLog(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2")
		_, _ = w.Write([]byte("{}"))
	}))
	defer srv.Close()
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_ENDPOINT_URL": srv.URL, "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull} {
		t.Setenv(k, v)
	}
	stderr := captureStderr(t)
	var logged bytes.Buffer
	s := &Step{Name: "verify-query", Env: lambdaenv.FromMap(map[string]string{}),
		Log: slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelInfo})).With("step", "verify-query")}
	cfg, err := s.AWSConfig()
	if err != nil {
		t.Fatal(err)
	}
	out, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("manifest.json")})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(out.Body)
	out.Body.Close()
	cfg.Logger.Logf("WARN", "a warning %d", 7)
	if text := stderr(); text != "" {
		t.Errorf("the SDK wrote to stderr: %q", text)
	}
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("want the warning alone in the step log (the debug line dropped), got:\n%s", logged.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil || rec["level"] != "WARN" || rec["msg"] != "a warning 7" || rec["step"] != "verify-query" {
		t.Errorf("warning record %s (%v)", lines[0], err)
	}
}

// captureStderr points os.Stderr at a pipe until the returned function is
// called, which gives what was written.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	restored := false
	restore := func() string {
		if restored {
			return ""
		}
		restored = true
		os.Stderr = orig
		w.Close()
		return <-done
	}
	t.Cleanup(func() { restore() })
	return restore
}
