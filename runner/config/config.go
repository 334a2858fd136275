// Package config reads tailgate.yaml: the suites a board measures, the pins a run requires,
// the store and the GitHub settings. Reading is strict: an unknown key, a wrong type or an
// invalid value is an error naming the file, the line and the key, and every problem is
// reported at once, before anything is measured: values are checked with the parsers that will
// use them (the gate's rule grammar, the harness's sched, input and synthetic grammars, the
// store's name rule). It owns the file's schema (docs/formats.md); it does not run suites (cmd,
// runner), evaluate threshold rules (gate) or open stores (baseline).
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/inputs"
	"github.com/tailgate-ci/tailgate/harness/sched"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/stress"
)

// DefaultFile is the configuration file looked for when --config is not given.
const DefaultFile = "tailgate.yaml"

// Version is the configuration schema version this package reads.
const Version = 1

// Profiles are the run profiles a suite's per-profile values are keyed by.
var Profiles = []string{"pr", "nightly"}

// Default per-profile interval lengths (DESIGN: 1s for PR runs, 10s nightly).
var DefaultInterval = PerProfile{PR: time.Second, Nightly: 10 * time.Second}

// Config is a parsed tailgate.yaml.
type Config struct {
	Version int               `yaml:"version"`
	Suites  map[string]*Suite `yaml:"suites"`
	Pins    Pins              `yaml:"pins"`
	Store   Store             `yaml:"store"`
	GitHub  GitHub            `yaml:"github"`
	CI      CI                `yaml:"ci"`

	// Path is the file it was read from; Digest the SHA-256 of its bytes (meta.json's
	// config_digest).
	Path   string `yaml:"-"`
	Digest string `yaml:"-"`
}

// Suite is one workload to measure and gate.
type Suite struct {
	Name      string `yaml:"-"`
	Line      int    `yaml:"-"` // where the suite's key is
	Model     string `yaml:"model"`
	Backend   string `yaml:"backend"`   // ort (default), synthetic or exec
	Synthetic string `yaml:"synthetic"` // --synthetic SPEC
	// Worker is the exec backend's worker command line (--worker; docs/worker-protocol.md).
	Worker   string           `yaml:"worker"`
	Inputs   map[string]Input `yaml:"inputs"`
	Threads  int              `yaml:"threads"`
	CPUs     []int            `yaml:"cpus"`
	Sched    string           `yaml:"sched"`
	Mlock    bool             `yaml:"mlock"`
	Spinning *bool            `yaml:"spinning"`
	Seed     *int64           `yaml:"seed"`
	// Warmup is a duration ("5s") or an iteration count ("500").
	Warmup     string            `yaml:"warmup"`
	Duration   PerProfile        `yaml:"duration"`
	Iterations int64             `yaml:"iterations"`
	Interval   PerProfile        `yaml:"interval"`
	Mode       string            `yaml:"mode"`     // closed (default) or open
	Rate       string            `yaml:"rate"`     // open loop: "30/s"
	Deadline   Duration          `yaml:"deadline"` // open loop
	Overrun    string            `yaml:"overrun"`  // open loop: queue or drop
	Thresholds []Rule            `yaml:"thresholds"`
	Tags       map[string]string `yaml:"tags"`
	// Compare is how a pull request's run is compared: CompareAB (interleaved with the merge
	// base's model), CompareBaseline (against the stored baseline) or CompareAuto (A/B when
	// the pull request changes the model or its session settings; the default).
	Compare string `yaml:"compare"`
}

// The values of a suite's compare key.
const (
	CompareAuto     = "auto"
	CompareAB       = "ab"
	CompareBaseline = "baseline"
)

// Input is one model input of a suite. Shape is a list of dimensions (empty for a scalar);
// Fill uses the --input FILL grammar (random, zeros, const=V, file=PATH, adversarial, ...).
type Input struct {
	Shape []int64 `yaml:"shape"`
	Fill  string  `yaml:"fill"`
	Seed  *int64  `yaml:"seed"`
}

// Rule is one threshold rule, kept as text for the gate's grammar, with its line so the gate
// can name file and line in its errors.
type Rule struct {
	Text string
	Line int
}

// UnmarshalYAML keeps the rule's text and line.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n.Line, "a threshold rule is a string such as \"p99 < +5%%\"")
	}
	r.Text, r.Line = n.Value, n.Line
	return nil
}

// Duration is a Go duration string in YAML ("33ms").
type Duration time.Duration

// UnmarshalYAML parses a Go duration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n)
	*d = Duration(v)
	return err
}

func parseDuration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, lineErr(n.Line, "want a duration such as 30s")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return 0, lineErr(n.Line, "%q is not a duration (e.g. 90s, 2m, 6h)", n.Value)
	}
	return v, nil
}

// PerProfile is a duration that may differ by profile: either one duration for both
// ("30s") or a mapping { pr: 2m, nightly: 6h }.
type PerProfile struct {
	PR, Nightly time.Duration
}

// UnmarshalYAML reads a scalar duration or a {pr, nightly} mapping, rejecting other keys.
func (p *PerProfile) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		d, err := parseDuration(n)
		p.PR, p.Nightly = d, d
		return err
	}
	if n.Kind != yaml.MappingNode {
		return lineErr(n.Line, "want a duration or { pr: D, nightly: D }")
	}
	te := &yaml.TypeError{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		d, err := parseDuration(v)
		if err != nil {
			te.Errors = append(te.Errors, err.(*yaml.TypeError).Errors...)
			continue
		}
		switch k.Value {
		case "pr":
			p.PR = d
		case "nightly":
			p.Nightly = d
		default:
			te.Errors = append(te.Errors, fmt.Sprintf("line %d: unknown profile %q (want pr or nightly)", k.Line, k.Value))
		}
	}
	if len(te.Errors) > 0 {
		return te
	}
	return nil
}

// lineErr is a decoding error in the form yaml.v3 collects, so that one bad value does not
// hide the others.
func lineErr(line int, format string, a ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, a...)}}
}

// For returns the value for a profile ("" means pr).
func (p PerProfile) For(profile string) time.Duration {
	if profile == "nightly" {
		return p.Nightly
	}
	return p.PR
}

// Pins are the versions a run requires; doctor checks them and a failed pin stops a run.
type Pins struct {
	Kernel      string            `yaml:"kernel"` // glob on the kernel release
	ONNXRuntime string            `yaml:"onnxruntime"`
	ModelSHA256 map[string]string `yaml:"model_sha256"` // suite → hex SHA-256
	// Runtimes are the other keys: a glob on the version an exec backend's worker names for
	// that runtime in its handshake, e.g. hailort: "4.20.*".
	Runtimes map[string]string `yaml:",inline"`
}

// Store says where results and baselines are kept.
type Store struct {
	Kind   string `yaml:"kind"` // fs (default) or git
	Path   string `yaml:"path"` // fs: folder, default .tailgate
	Repo   string `yaml:"repo"` // git: repository path or URL
	Branch string `yaml:"branch"`
}

// GitHub says what to publish.
type GitHub struct {
	Comment *bool `yaml:"comment"`
	Status  *bool `yaml:"status"`
	Check   *bool `yaml:"check"`
	// SiteURL is where the nightly dashboard (`tailgate site`) is published, e.g. the
	// repository's GitHub Pages address: the PR comment links each suite to its page there.
	SiteURL string `yaml:"site_url"`
}

// CI holds the settings of `tailgate ci` that belong to the project rather than to one
// invocation; the command's flags of the same names override them. Empty (or nil) means the
// flag's default.
type CI struct {
	// Confirm is how many confirmation reruns a nightly regression gets before it fails
	// (--confirm); a pointer because 0 (fail at once) is a setting, not an absence.
	Confirm *int `yaml:"confirm"`
	// DefaultBranch is the branch whose passing runs are promoted (--default-branch): a branch
	// name such as main, not a ref.
	DefaultBranch string `yaml:"default_branch"`
	// TrustedLabel is the label that lets a fork's pull request run on the board
	// (--trusted-label).
	TrustedLabel string `yaml:"trusted_label"`
	// Keep is how many run folders the work folder keeps (newest first) besides the ones this
	// job uses; nil means DefaultKeep. The store keeps what must outlive the work folder.
	Keep *int `yaml:"keep"`
	// BaselineRuns pools the baseline with the newest passing nights of the same environment
	// before it, up to this many runs in all (1, the default: the baseline run alone). One
	// night's run can be a lucky fast one; a pooled baseline also carries the run-to-run
	// variation its blocks then see.
	BaselineRuns int `yaml:"baseline_runs"`
	// PRData lists repository paths a pull request may supply besides the suites' models
	// (input files, a model's external data), fetched by `tailgate ci --pr-data SHA` without
	// checking the pull request out (runner/prdata, docs/github.md).
	PRData []string `yaml:"pr_data"`
	// PRDataMaxMiB caps each file fetched from a pull request (--pr-data-max-mib); 0 means
	// the default (256).
	PRDataMaxMiB int `yaml:"pr_data_max_mib"`
}

// MaxBaselineRuns bounds ci.baseline_runs: every pooled run is read for every comparison.
const MaxBaselineRuns = 14

// DefaultKeep is how many run folders `tailgate ci` leaves in its work folder by default: a
// few days of nightlies and PRs, so a board's disk does not fill over a season.
const DefaultKeep = 20

// validate checks the ci section; line gives the line of a key below ci: (or of ci: itself).
func (c CI) validate(file string, line func(key string) int) []error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, locate(file, line(key), "ci."+key, fmt.Errorf(format, a...)))
	}
	if c.Confirm != nil && *c.Confirm < 0 {
		bad("confirm", "%d is negative (0 fails a nightly regression at once)", *c.Confirm)
	}
	if b := c.DefaultBranch; b != "" {
		// A ref here would never equal a run's branch (the policy strips refs/heads/ from the
		// run's ref), so every promotion would be refused without a word.
		if strings.HasPrefix(b, "refs/") || strings.ContainsAny(b, " \t~^:?*[\\") || strings.TrimSpace(b) != b {
			bad("default_branch", "%q is not a branch name (want e.g. main, without refs/heads/)", b)
		}
	}
	if c.Keep != nil && *c.Keep < 0 {
		bad("keep", "%d is negative", *c.Keep)
	}
	if c.BaselineRuns < 0 || c.BaselineRuns > MaxBaselineRuns {
		bad("baseline_runs", "%d: want 1 to %d", c.BaselineRuns, MaxBaselineRuns)
	}
	if l := c.TrustedLabel; l != "" && strings.TrimSpace(l) == "" {
		bad("trusted_label", "blank")
	}
	for _, p := range c.PRData {
		// The same rule runner/prdata applies (it imports this package, not the other way).
		clean := strings.TrimPrefix(p, "./")
		switch {
		case p == "" || strings.ContainsAny(p, "\\\x00\n\r") || strings.HasPrefix(p, "/"):
			bad("pr_data", "%q is not a repository path (relative, slash-separated)", p)
		case slices.Contains(strings.Split(clean, "/"), "..") || slices.Contains(strings.Split(strings.ToLower(clean), "/"), ".git"):
			bad("pr_data", "%q leaves the repository or names .git", p)
		}
	}
	if c.PRDataMaxMiB < 0 {
		bad("pr_data_max_mib", "%d is negative", c.PRDataMaxMiB)
	}
	return errs
}

// locate names where a problem is: "file:line: key: err".
func locate(file string, line int, key string, err error) error {
	return fmt.Errorf("%s:%d: %s: %w", file, line, key, err)
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes and validates configuration bytes; name is used in errors. Every problem is
// reported, each as "name:line: message".
func Parse(name string, b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var errs []error
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty configuration", name)
		}
		de := &decodeError{msg: prefixLines(name, err), err: err}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, de // a syntax error: nothing else can be checked
		}
		// Type and unknown-key errors leave the rest decoded: check it too, so every problem
		// is reported in one go.
		errs = append(errs, de)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	}
	sum := sha256.Sum256(b)
	c.Path, c.Digest = name, hex.EncodeToString(sum[:])

	var root yaml.Node
	_ = yaml.Unmarshal(b, &root)
	doc := &root
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		doc = root.Content[0]
	}
	bad := func(line int, key string, format string, a ...any) {
		errs = append(errs, locate(name, line, key, fmt.Errorf(format, a...)))
	}
	if c.Version != Version {
		bad(lineOf(doc, "version"), "version", "%d not supported (this tailgate reads version %d)", c.Version, Version)
	}
	if len(c.Suites) == 0 {
		bad(lineOf(doc, "suites"), "suites", "none")
	}
	for _, n := range c.SuiteNames() {
		s := c.Suites[n]
		if s == nil {
			s = &Suite{}
			c.Suites[n] = s
		}
		s.Name, s.Line = n, lineOf(doc, "suites", n)
		errs = append(errs, s.validate(name, findKey(doc, "suites", n))...)
	}
	switch c.Store.Kind {
	case "", "fs":
	case "git":
		if c.Store.Branch == "" {
			bad(lineOf(doc, "store", "kind"), "store.branch", "required with kind git")
		}
	default:
		bad(lineOf(doc, "store", "kind"), "store.kind", "unknown kind %q (want fs or git)", c.Store.Kind)
	}
	if u := c.GitHub.SiteURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		bad(lineOf(doc, "github", "site_url"), "github.site_url", "%q is not an http(s) address", u)
	}
	errs = append(errs, c.CI.validate(name, func(key string) int { return lineOf(doc, "ci", key) })...)
	for rt, glob := range c.Pins.Runtimes {
		line, key := lineOf(doc, "pins", rt), "pins."+rt
		if !execbackend.ValidRuntime(rt) {
			bad(line, key, "not a pin tailgate knows (kernel, onnxruntime, model_sha256) nor a worker runtime name (lower-case, e.g. hailort)")
		} else if _, err := path.Match(glob, ""); err != nil || glob == "" {
			bad(line, key, "%q is not a version glob (e.g. \"4.20.*\")", glob)
		}
	}
	for suite, sum := range c.Pins.ModelSHA256 {
		line, key := lineOf(doc, "pins", "model_sha256", suite), "pins.model_sha256."+suite
		if _, ok := c.Suites[suite]; !ok {
			bad(line, key, "no suite named %q", suite)
		}
		if len(sum) != 64 || strings.Trim(strings.ToLower(sum), "0123456789abcdef") != "" {
			bad(line, key, "%q is not a hex SHA-256", sum)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// Bounds of a suite's values. They are far beyond any sane run and only stop typos that would
// otherwise be found hours into a run, or never: "duration: 2000000h" outlives the board, and
// each ONNX Runtime thread has its own stack and arena, so "threads: 100000" grows the process
// until the kernel kills it.
const (
	MaxThreads  = 1024
	MaxDuration = 30 * 24 * time.Hour
)

// validate checks one suite's values and returns every problem, each as
// "file:line: suites.NAME.KEY: what is wrong" at the line of the offending key (of the suite
// when the key is missing). keys is the suite's YAML mapping, for the lines.
func (s *Suite) validate(file string, keys keyNode) []error {
	var errs []error
	bad := func(err error, key ...string) {
		key = slices.DeleteFunc(key, func(k string) bool { return k == "" }) // "": a profile of a single value
		errs = append(errs, locate(file, keys.line(key...), "suites."+strings.Join(append([]string{s.Name}, key...), "."), err))
	}
	if err := baseline.ValidateName("suite", s.Name); err != nil {
		// The name becomes a folder of the store: "../x" would write outside it.
		errs = append(errs, locate(file, keys.line(), "suites", err))
	}
	switch s.Backend {
	case "", "ort":
		if s.Model == "" {
			bad(errors.New("required for the ort backend"), "model")
		}
	case "exec":
		if strings.TrimSpace(s.Worker) == "" {
			bad(errors.New("required for the exec backend: the worker's command line"), "worker")
		} else if _, err := stress.Split(s.Worker); err != nil {
			bad(err, "worker")
		}
		for _, k := range []string{"inputs", "synthetic", "threads", "spinning"} {
			if keys.has(k) {
				bad(errors.New("does not apply to backend exec (the worker prepares its own inputs and threads)"), k)
			}
		}
	case "synthetic":
		if s.Synthetic != "" {
			if _, err := synthetic.Parse(s.Synthetic); err != nil {
				bad(err, "synthetic")
			}
		}
		for _, k := range []string{"model", "inputs"} {
			if keys.has(k) {
				bad(errors.New("does not apply to backend synthetic"), k)
			}
		}
	default:
		bad(fmt.Errorf("%q (want ort, synthetic or exec)", s.Backend), "backend")
	}
	if s.Backend != "exec" && keys.has("worker") {
		bad(errors.New("applies to backend exec only"), "worker")
	}
	for _, spec := range s.InputSpecs() {
		if _, err := inputs.ParseSpec(spec); err != nil {
			name, _, _ := strings.Cut(spec, "=")
			bad(err, "inputs", name)
		}
	}
	threads := s.Threads
	if keys.has("threads") && (threads < 1 || threads > MaxThreads) {
		bad(fmt.Errorf("%d: want 1 to %d", threads, MaxThreads), "threads")
	}
	if threads < 1 {
		threads = 1 // ortbackend.DefaultThreads, the --threads default
	}
	if s.Backend == "exec" {
		threads = max(len(s.CPUs), 1) // the worker runs on all of them; tailgate times from the first
	}
	for _, err := range checkCPUs(s.CPUs, threads) {
		bad(err, "cpus")
	}
	if s.Sched != "" {
		if _, err := sched.Parse(s.Sched); err != nil {
			bad(err, "sched")
		}
	}
	if s.Warmup != "" {
		if d, _, err := ParseWarmup(s.Warmup); err != nil {
			bad(err, "warmup")
		} else if d > MaxDuration {
			bad(fmt.Errorf("%s is longer than %s", d, MaxDuration), "warmup")
		}
	}
	for _, pp := range []struct {
		key string
		v   PerProfile
	}{{"duration", s.Duration}, {"interval", s.Interval}} {
		for _, p := range keys.profiles(pp.key) {
			d := pp.v.For(p)
			switch {
			case d <= 0:
				bad(fmt.Errorf("%s is not positive (leave it out for the default)", d), pp.key, p)
			case d > MaxDuration:
				bad(fmt.Errorf("%s is longer than %s", d, MaxDuration), pp.key, p)
			}
		}
	}
	for _, p := range Profiles {
		// A run shorter than one interval would write no complete interval to gate on.
		if d, iv := s.Duration.For(p), s.Interval.For(p); d > 0 && iv > d {
			at := p
			if !slices.Contains(keys.profiles("interval"), p) {
				at = "" // one interval for both profiles
			}
			bad(fmt.Errorf("%s is longer than the %s duration %s", iv, p, d), "interval", at)
		}
	}
	if s.Iterations < 0 {
		bad(fmt.Errorf("%d is negative", s.Iterations), "iterations")
	}
	switch s.Compare {
	case "", CompareAuto, CompareAB, CompareBaseline:
	default:
		bad(fmt.Errorf("%q (want auto, ab or baseline)", s.Compare), "compare")
	}
	switch s.Mode {
	case "", "closed":
		for _, k := range []string{"rate", "deadline", "overrun"} {
			if keys.has(k) {
				bad(errors.New("applies to mode: open only"), k)
			}
		}
	case "open":
		if s.Rate == "" {
			bad(errors.New("required with mode: open (e.g. 30/s)"), "rate")
		} else if r, err := ParseRate(s.Rate); err != nil {
			bad(err, "rate")
		} else if err := (harness.OpenLoop{Rate: r}).Validate(); err != nil {
			bad(err, "rate")
		}
		if d := time.Duration(s.Deadline); d > time.Duration(result.HighestNs) {
			// Nothing above the histogram's range is recorded, so nothing would ever miss.
			bad(fmt.Errorf("%s is above the longest latency a result records (%s)", d, time.Duration(result.HighestNs)), "deadline")
		} else if keys.has("deadline") && d == 0 {
			bad(errors.New("0s is not positive (leave it out for no deadline)"), "deadline")
		}
		if o := s.Overrun; o != "" && o != harness.OverrunQueue && o != harness.OverrunDrop {
			bad(fmt.Errorf("%q (want %s or %s)", o, harness.OverrunQueue, harness.OverrunDrop), "overrun")
		}
	default:
		bad(fmt.Errorf("%q (want closed or open)", s.Mode), "mode")
	}
	for _, src := range s.RuleSources(file) {
		if _, err := gate.ParseRule(src); err != nil {
			// The rule's own line is the location; the gate's message would repeat it.
			var re *gate.RuleError
			if errors.As(err, &re) {
				err = fmt.Errorf("%q: %s", re.Source.Text, re.Msg)
			}
			errs = append(errs, locate(file, src.Line, "suites."+s.Name+".thresholds", err))
		}
	}
	seeds := map[int64]bool{}
	for _, in := range s.Inputs {
		if in.Seed != nil {
			seeds[*in.Seed] = true
		}
	}
	if len(seeds) > 1 || (len(seeds) == 1 && s.Seed != nil && !seeds[*s.Seed]) {
		bad(errors.New("per-input seeds differ; every input is seeded from one seed (set seed: on the suite)"), "inputs")
	}
	return errs
}

// checkCPUs applies run's rule for a CPU list: ids the kernel can have, each once, and either
// one CPU (the timing thread's) or one per thread (the timing thread, then one per ONNX
// Runtime worker).
func checkCPUs(cpus []int, threads int) []error {
	seen := map[int]bool{}
	var errs []error
	for _, c := range cpus {
		switch {
		case c < 0 || c > host.MaxCPU:
			errs = append(errs, fmt.Errorf("%d is not a CPU id (0 to %d)", c, host.MaxCPU))
		case seen[c]:
			errs = append(errs, fmt.Errorf("CPU %d is listed twice", c))
		}
		seen[c] = true
	}
	if n := len(seen); n > 1 && n != threads { // a CPU listed twice is reported once, above
		errs = append(errs, fmt.Errorf("%d CPUs for %d threads: give 1 CPU (the timing thread) or threads CPUs (timing thread, then one per ONNX Runtime worker)", n, threads))
	}
	return errs
}

// RuleSources returns the suite's thresholds as the gate's rule sources, located in file.
func (s *Suite) RuleSources(file string) []gate.RuleSource {
	out := make([]gate.RuleSource, len(s.Thresholds))
	for i, r := range s.Thresholds {
		out[i] = gate.RuleSource{Text: r.Text, File: file, Line: r.Line}
	}
	return out
}

// Rules returns the suite's thresholds as the gate's rule sources, located in file, or the
// gate's default rules (isDefault) when the suite has none.
func (s *Suite) Rules(file string) (srcs []gate.RuleSource, isDefault bool) {
	if len(s.Thresholds) == 0 {
		return gate.DefaultRuleSources(), true
	}
	return s.RuleSources(file), false
}

// InputSpecs renders the suite's inputs in the --input grammar (NAME=DIMS:FILL), sorted by
// name, so flags and configuration go through one parser.
func (s *Suite) InputSpecs() []string {
	names := make([]string, 0, len(s.Inputs))
	for n := range s.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, n := range names {
		in := s.Inputs[n]
		dims := "scalar"
		if len(in.Shape) > 0 {
			parts := make([]string, len(in.Shape))
			for i, d := range in.Shape {
				parts[i] = strconv.FormatInt(d, 10)
			}
			dims = strings.Join(parts, "x")
		}
		spec := n + "=" + dims
		if in.Fill != "" {
			spec += ":" + in.Fill
		}
		out = append(out, spec)
	}
	return out
}

// EffectiveSeed is the suite's seed, else the one seed its inputs name, else def.
func (s *Suite) EffectiveSeed(def int64) int64 {
	if s.Seed != nil {
		return *s.Seed
	}
	for _, in := range s.Inputs {
		if in.Seed != nil {
			return *in.Seed
		}
	}
	return def
}

// SuiteNames returns the suite names in sorted order.
func (c *Config) SuiteNames() []string {
	out := make([]string, 0, len(c.Suites))
	for n := range c.Suites {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Suite returns the named suite, or an error listing the suites there are.
func (c *Config) Suite(name string) (*Suite, error) {
	if s, ok := c.Suites[name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("%s: no suite %q (suites: %s)", c.Path, name, strings.Join(c.SuiteNames(), ", "))
}

// ParseWarmup reads a warm-up given as a duration ("5s") or an iteration count ("500").
func ParseWarmup(s string) (time.Duration, int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 {
			return 0, 0, fmt.Errorf("%q is negative", s)
		}
		return 0, n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, 0, fmt.Errorf("%q is neither a duration (5s) nor an iteration count (500)", s)
	}
	return d, 0, nil
}

// ParseRate reads an arrival or inference rate into events per second: "30/s", "1800/min" (or
// "/m"), "2/ms", "108000/h", or a bare number, which is per second. The open loop (run --rate,
// a suite's rate:) and plan --rate share this one grammar, so a rate that plans also runs.
func ParseRate(s string) (float64, error) {
	num, unit, found := strings.Cut(strings.TrimSpace(s), "/")
	per := 1.0
	if found {
		switch strings.TrimSpace(unit) {
		case "s":
		case "ms":
			per = 1e-3
		case "min", "m":
			per = 60
		case "h":
			per = 3600
		default:
			return 0, fmt.Errorf("%q: unit %q, want s, ms, min or h", s, unit)
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q: want a positive rate such as 30/s", s)
	}
	return v / per, nil
}

// decodeError is a YAML decoding error with its lines prefixed by the file name.
type decodeError struct {
	msg string
	err error
}

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return e.err }

// prefixLines turns yaml's "line N: msg" errors into "name:N: msg" lines.
func prefixLines(name string, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var out []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "line "); ok {
			if num, m, ok := strings.Cut(rest, ": "); ok {
				l = name + ":" + num + ": " + m
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// findKey follows path through nested mappings from n to the key node of its last element and
// that key's value, or to nils when an element is missing.
func findKey(n *yaml.Node, path ...string) keyNode {
	var key *yaml.Node
	for _, k := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return keyNode{}
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				key, next = n.Content[i], n.Content[i+1]
			}
		}
		if next == nil {
			return keyNode{}
		}
		n = next
	}
	return keyNode{key: key, value: n}
}

// lineOf is the line of the deepest key of path found below n (1 when not even the first is).
func lineOf(n *yaml.Node, path ...string) int {
	return keyNode{value: n}.line(path...)
}

// keyNode is a key of the YAML tree and its value, such as a suite and its mapping: it gives
// the lines of the keys below it.
type keyNode struct {
	key, value *yaml.Node
}

// line is the line of the deepest key of path found below k: a missing key is reported at its
// parent's line, and a missing suite at line 1.
func (k keyNode) line(path ...string) int {
	line := 1
	if k.key != nil {
		line = k.key.Line
	}
	for i := range path {
		f := findKey(k.value, path[:i+1]...)
		if f.key == nil {
			break
		}
		line = f.key.Line
	}
	return line
}

// has reports whether the mapping below k gives key.
func (k keyNode) has(key string) bool { return findKey(k.value, key).key != nil }

// profiles lists the profiles the mapping below k gives key (a PerProfile) for: none when the
// key is missing, one "" standing for both when it is a single value (so that a problem is
// reported once, at the key), else the profiles of its mapping.
func (k keyNode) profiles(key string) []string {
	v := findKey(k.value, key).value
	switch {
	case v == nil:
		return nil
	case v.Kind == yaml.ScalarNode:
		return []string{""}
	}
	var out []string
	for _, p := range Profiles {
		if findKey(v, p).key != nil {
			out = append(out, p)
		}
	}
	return out
}
