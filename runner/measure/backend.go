package measure

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/synthetic"
	"github.com/tailgate-ci/tailgate/runner/childenv"
)

// opened is a harness backend plus what meta.json records about it.
type opened struct {
	harness.Backend
	inputs             []result.InputSpec
	modelSHA           string
	ortVersion, ortSHA string
	// worker is what an exec backend's worker said in its handshake.
	worker execbackend.Ready
}

// workerOptions place and start the plan's worker (or, with another argv, the echo worker
// that calibrates its transport) in a scrubbed environment: a worker runs code tailgate did
// not write and must not see the job's tokens.
func workerOptions(p *Plan, argv []string) execbackend.Options {
	return execbackend.Options{Command: argv, Env: childenv.Environ(), CPUs: p.CPUs, Sched: p.Policy, Seed: p.Seed}
}

func openBackend(p *Plan, loadORT func() (ortlib.Library, error)) (*opened, error) {
	if p.Backend == "exec" {
		o := &opened{}
		if p.Model != "" {
			sum, err := ortlib.FileSHA256(p.Model)
			if err != nil {
				return nil, fmt.Errorf("model: %w", err)
			}
			o.modelSHA = sum
		}
		b, err := execbackend.Open(workerOptions(p, p.Worker))
		if err != nil {
			return nil, err
		}
		o.Backend, o.worker = b, b.Ready()
		return o, nil
	}
	if p.Backend == "synthetic" {
		spec, err := synthetic.Parse(p.Synthetic)
		if err != nil {
			return nil, err
		}
		return &opened{Backend: synthetic.New(spec, p.Seed)}, nil
	}
	if loadORT == nil {
		return nil, errors.New("the ort backend needs the ONNX Runtime library and no loader was given")
	}
	lib, err := loadORT()
	if err != nil {
		return nil, err
	}
	var workers []int
	if len(p.CPUs) > 1 {
		workers = p.CPUs[1:]
	}
	b, err := ortbackend.Open(ortbackend.Options{Model: p.Model, Inputs: p.Inputs, Seed: p.Seed,
		Threads: p.Threads, WorkerCPUs: workers, Spinning: p.Spinning})
	if err != nil {
		return nil, err
	}
	fed := make([]result.InputSpec, 0, len(b.Inputs()))
	for _, in := range b.Inputs() {
		fed = append(fed, result.InputSpec{Name: in.Name, Type: in.Type, Shape: in.Shape, Fill: in.Fill})
	}
	return &opened{Backend: b, inputs: fed, modelSHA: b.ModelSHA256(), ortVersion: lib.Version, ortSHA: lib.SHA256}, nil
}

func buildMeta(p *Plan, b *opened, fp result.Fingerprint, rep *harness.Report, g result.Git, tool result.Tool) *result.Meta {
	fp.Backend = p.Backend
	fp.ORTVersion, fp.ORTSHA256, fp.ModelSHA256 = b.ortVersion, b.ortSHA, b.modelSHA
	fp.Runtime, fp.RuntimeVersion, fp.Device = b.worker.Runtime, b.worker.Version, b.worker.Device
	fp.Threads, fp.CPUs, fp.Sched = p.Threads, p.CPUs, p.Policy.String()
	if fp.GoVersion == "" {
		fp.GoVersion = runtime.Version()
	}
	fp.ToolVersion = tool.Version
	if tool.Go == "" {
		tool.Go = runtime.Version()
	}
	threads := p.Threads
	if p.Backend != "ort" {
		threads = 1 // tailgate's own: an exec worker's threads are its own business
	}
	m := &result.Meta{
		Schema: result.SchemaVersion, Suite: p.Suite, Profile: p.Profile, ConfigDigest: p.ConfigDigest,
		Env: fp, Git: g,
		Workload: result.Workload{
			Model: p.Model, Backend: p.Backend, Inputs: b.inputs, Threads: threads, CPUs: p.CPUs,
			Sched: p.Policy.String(), Mlock: p.Mlock, Mode: "closed", Interval: p.Interval, Seed: p.Seed,
			RTPacing: rep.RTPacing,
		},
		Start: rep.Start, End: rep.End,
		Counts: result.Counts{Samples: rep.Samples, Intervals: rep.Intervals, Warmup: rep.Warmup, Overflow: rep.Overflow,
			Missed: rep.Missed, Dropped: rep.Dropped},
		Calibration: result.Calibration{
			ClockReadNs: rep.Calibration.ClockReadNs, LoopRecordNs: rep.Calibration.LoopRecordNs,
			TimerResolveNs: rep.Calibration.TimerResolutionNs,
		},
		Health: result.Health{Healthy: true},
		Tool:   tool,
	}
	if len(p.Tags) > 0 {
		m.Tags = p.Tags
	}
	switch p.Backend {
	case "synthetic":
		m.Workload.Synth = p.Synthetic
	case "exec":
		m.Workload.Worker = p.Worker
	}
	if p.Open.Rate > 0 {
		m.Workload.Mode, m.Workload.Rate, m.Workload.Arrivals = "open", p.Open.Rate, p.Open.Arrivals
		m.Workload.Deadline, m.Workload.Overrun = p.Open.Deadline, p.Open.Overrun
	}
	return m
}

// GitInfo locates the measured code: git in the working directory first, then the GitHub
// Actions variables read through getenv.
func GitInfo(getenv func(string) string) result.Git {
	var g result.Git
	gitOut := func(args ...string) string {
		// Hardened like the store's git: a checkout an earlier job touched may carry hooks,
		// an fsmonitor or a pager in its config, and this process holds the job's token.
		out, err := baseline.GitCommand(context.Background(), "", nil, args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	g.Commit = gitOut("rev-parse", "HEAD")
	if g.Commit != "" {
		g.Ref = gitOut("symbolic-ref", "-q", "HEAD")
		g.Repo = gitOut("config", "--get", "remote.origin.url")
	}
	if g.Commit == "" {
		g.Commit = getenv("GITHUB_SHA")
	}
	if g.Ref == "" {
		g.Ref = getenv("GITHUB_REF")
	}
	if r := getenv("GITHUB_REPOSITORY"); r != "" && g.Repo == "" {
		g.Repo = r
	}
	// refs/pull/123/merge is how Actions names a pull request's merge commit.
	if rest, ok := strings.CutPrefix(getenv("GITHUB_REF"), "refs/pull/"); ok {
		if n, err := strconv.Atoi(strings.SplitN(rest, "/", 2)[0]); err == nil {
			g.PR = n
		}
	}
	return g
}
