package motoserver

import (
	"net/http"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func TestServerAnswersAndResets(t *testing.T) {
	srv := Current(t)
	resp, err := http.Get(srv.URL + "/moto-api/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	srv.Reset(t)
	if cfg := srv.Config(); *cfg.BaseEndpoint != srv.URL || cfg.Region != Region {
		t.Fatalf("config points at %s in %s", *cfg.BaseEndpoint, cfg.Region)
	}
}
