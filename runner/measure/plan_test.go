package measure_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

func suite(t *testing.T, yaml string) *config.Suite {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte("version: 1\nsuites:\n  s:\n"+yaml))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Suite("s")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// TestResolve: an override beats the suite, the suite beats the default, per-profile values
// follow the profile.
func TestResolve(t *testing.T) {
	s := suite(t, `    backend: synthetic
    synthetic: "const:d=1ms"
    duration: { pr: 2s, nightly: 1h }
    interval: { pr: 100ms, nightly: 10s }
    warmup: "50"
    sched: other
    tags: { a: b }
`)
	for _, tc := range []struct {
		name     string
		profile  string
		o        measure.Overrides
		duration time.Duration
		interval time.Duration
		warmupN  int64
	}{
		{"pr", "pr", measure.Overrides{}, 2 * time.Second, 100 * time.Millisecond, 50},
		{"nightly", "nightly", measure.Overrides{}, time.Hour, 10 * time.Second, 50},
		{"overrides", "nightly", measure.Overrides{Duration: ptr(time.Second), Interval: ptr(time.Second), Warmup: ptr("7")}, time.Second, time.Second, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := measure.Resolve(measure.Request{Suite: s, Profile: tc.profile, Out: "x", Overrides: tc.o})
			if err != nil {
				t.Fatal(err)
			}
			if p.Suite != "s" || p.Duration != tc.duration || p.Interval != tc.interval || p.WarmupIterations != tc.warmupN || p.Tags["a"] != "b" || p.Backend != "synthetic" {
				t.Errorf("%+v", p)
			}
		})
	}
	p, err := measure.Resolve(measure.Request{Overrides: measure.Overrides{Backend: ptr("synthetic")}, Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Suite != "synthetic" || p.Duration != measure.DefaultDuration || p.Out != "synthetic-20260102T030405Z" || p.Profile != "pr" {
		t.Errorf("defaults: %+v", p)
	}
}

// TestResolveReportsEverything: every bad setting is a *SettingError naming it, all at once.
func TestResolveReportsEverything(t *testing.T) {
	o := measure.Overrides{Backend: ptr("ort"), Sched: ptr("fifo:0"), Warmup: ptr("soon"), CPUs: ptr("x"),
		Tags: []string{"novalue"}, Inputs: &[]string{"=1x2"}, Threads: ptr(100000), Interval: ptr(time.Duration(0)),
		Overrun: ptr("drop")}
	_, err := measure.Resolve(measure.Request{Profile: "weekly", Overrides: o})
	if err == nil {
		t.Fatal("no error")
	}
	got := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *measure.SettingError
		if !errors.As(e, &se) {
			t.Errorf("%v is not a SettingError", e)
			continue
		}
		got[se.Setting] = true
		if strings.Contains(e.Error(), "--") {
			t.Errorf("%q names a flag: the library's errors name settings", e)
		}
	}
	for _, w := range []string{"profile", "model", "sched", "warmup", "cpus", "tag", "input", "threads", "interval", "rate"} {
		if !got[w] {
			t.Errorf("no error for %s in:\n%v", w, err)
		}
	}
}

// TestResolveFalseAndZeroAreSettings: a suite's spinning: false and seed: 0 are kept, not
// mistaken for "not set"; an override beats them.
func TestResolveFalseAndZeroAreSettings(t *testing.T) {
	s := suite(t, "    backend: synthetic\n    spinning: false\n    seed: 0\n")
	p, err := measure.Resolve(measure.Request{Suite: s, Out: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Spinning || p.Seed != 0 {
		t.Errorf("spinning %v seed %d, want false 0", p.Spinning, p.Seed)
	}
	p, err = measure.Resolve(measure.Request{Suite: s, Out: "x", Overrides: measure.Overrides{Spinning: ptr(true), Seed: ptr(int64(7))}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Spinning || p.Seed != 7 {
		t.Errorf("overridden: spinning %v seed %d, want true 7", p.Spinning, p.Seed)
	}
}
