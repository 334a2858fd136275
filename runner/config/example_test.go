package config_test

import (
	"testing"

	"github.com/tailgate-ci/tailgate/runner/config"
)

// TestShippedExampleLoads keeps docs/tailgate.example.yaml (shipped in the release tarballs as
// tailgate.yaml) valid under the strict loader.
func TestShippedExampleLoads(t *testing.T) {
	c, err := config.Load("../../docs/tailgate.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Suites) != 2 {
		t.Errorf("%d suites, want 2", len(c.Suites))
	}
}
