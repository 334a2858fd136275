package ci

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

// PublishInput is the one PR comment of a configuration (named after its file) and a status per
// suite: each outcome's report, or the error that left a suite without one. It returns each
// suite's environment key too, for the history charts.
func PublishInput(cfg *config.Config, outcomes []Outcome, act publish.ActionsEnv) (publish.Input, map[string]string) {
	name := strings.TrimSuffix(filepath.Base(cfg.Path), filepath.Ext(cfg.Path))
	in := publish.Input{Config: name, RunURL: act.RunURL, ArtifactsURL: act.ArtifactsURL}
	keys := map[string]string{}
	for _, o := range outcomes {
		if o.Report != nil {
			in.Suites = append(in.Suites, publish.FromReport(o.Report, render.Markdown(o.Report, render.MarkdownLimit)))
			keys[o.Suite] = o.Report.Pins.CandidateKey
			continue
		}
		reason := "no result"
		if o.Err != nil {
			reason = o.Err.Error()
		}
		in.Suites = append(in.Suites, publish.ErrorSuite(o.Suite, o.Code, reason))
	}
	sort.SliceStable(in.Suites, func(i, j int) bool { return in.Suites[i].Name < in.Suites[j].Name })
	return in, keys
}

// PublishOptions are what the config's github: section asks to publish, check overriding its
// check when set (--check), under the inconclusive policy.
func PublishOptions(g config.GitHub, check *bool, policy gate.InconclusivePolicy) publish.Options {
	o := publish.DefaultOptions
	for _, set := range []struct {
		dst *bool
		src *bool
	}{{&o.Comment, g.Comment}, {&o.Status, g.Status}, {&o.Check, g.Check}, {&o.Check, check}} {
		if set.src != nil {
			*set.dst = *set.src
		}
	}
	o.Policy = publish.Policy(policy)
	return o
}

// ResultsOutput is the step output `results`: the run folders this job used, one absolute path
// a line, for the job's artifact. The work folder also keeps earlier jobs' runs (other pull
// requests' among them, up to ci.keep), which this job's artifact must not carry.
func ResultsOutput(used []string) publish.Output {
	var dirs []string
	for _, d := range used {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return publish.Output{Name: "results", Value: strings.Join(dirs, "\n")}
}
