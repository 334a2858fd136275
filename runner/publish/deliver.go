package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/baseline"
	"github.com/tailgate-ci/tailgate/gate/site"
)

// DefaultTimeout bounds a whole delivery, retries and rate-limit waits included.
const DefaultTimeout = 2 * time.Minute

// TokenVars are the variables a token is read from, in order: a token meant for tailgate wins
// over the job's.
var TokenVars = []string{"TAILGATE_GITHUB_TOKEN", "GITHUB_TOKEN"}

// Delivery is one publish of an input: what is sent where, the runner's files, and how.
type Delivery struct {
	Input   Input
	Target  Target
	Options Options
	Actions ActionsEnv
	// Token authenticates the API calls; it is needed only when something is sent.
	Token string
	// APIURL overrides Actions.APIURL (GitHub Enterprise).
	APIURL  string
	Retry   Retry
	Timeout time.Duration
	// DryRun prints what would be sent and written and sends and writes nothing.
	DryRun bool
	// Stdout receives annotations (in Actions) and the dry run; Log what was done.
	Stdout, Log io.Writer
	// Name prefixes log lines ("tailgate publish").
	Name string
}

// Deliver renders the comment, writes the runner's files (annotations, job summary, step
// outputs), then sends the plan: comment upsert, statuses, check runs. The files come first
// (they need no network, and a failing GitHub must not also cost the job summary), and a
// failed file write does not stop the sending. It returns the gate's exit code under the
// policy and every error; `tailgate publish` and `tailgate ci` both publish through it.
func Deliver(ctx context.Context, d Delivery) (int, error) {
	if d.Stdout == nil {
		d.Stdout = io.Discard
	}
	if d.Log == nil {
		d.Log = io.Discard
	}
	plan, err := BuildPlan(d.Input, d.Target, d.Options)
	if err != nil {
		return ExitError, err
	}
	code := d.Input.CodeWith(d.Options.Policy)
	body := RenderComment(d.Input, RenderOptions{SHA: d.Target.SHA})
	outputs := []Output{
		{Name: "verdict", Value: d.Input.Verdict()},
		{Name: "exit-code", Value: fmt.Sprint(code)},
		{Name: "report", Value: body},
	}
	annotations := Annotations(d.Input)
	if d.DryRun {
		return code, dryRun(d, plan, outputs, annotations)
	}
	errs := writeActionsFiles(d, body, outputs, annotations)
	if plan.Comment != nil || len(plan.Statuses) > 0 || len(plan.Checks) > 0 {
		if err := send(ctx, d, plan); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range plan.Skipped {
		fmt.Fprintf(d.Log, "%s: skipped %s\n", d.Name, s)
	}
	return code, errors.Join(errs...)
}

// writeActionsFiles writes what the Actions runner reads: the annotations (on stdout, inside
// Actions only), the job summary and the step outputs. It returns every error.
func writeActionsFiles(d Delivery, body string, outputs []Output, annotations []string) []error {
	var errs []error
	act := d.Actions
	if act.InActions {
		for _, a := range annotations {
			fmt.Fprintln(d.Stdout, a)
		}
	}
	if act.StepSummary != "" {
		if err := AppendStepSummary(act.StepSummary, body); err != nil {
			errs = append(errs, fmt.Errorf("$GITHUB_STEP_SUMMARY: %w", err))
		}
	}
	if act.Output != "" {
		if err := WriteOutputs(act.Output, outputs, nil); err != nil {
			errs = append(errs, fmt.Errorf("$GITHUB_OUTPUT: %w", err))
		}
	}
	return errs
}

func send(ctx context.Context, d Delivery, plan Plan) error {
	if d.Token == "" {
		return fmt.Errorf("no GitHub token: set $%s (in Actions: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}), or use --dry-run", strings.Join(TokenVars, " or $"))
	}
	api := d.APIURL
	if api == "" {
		api = d.Actions.APIURL
	}
	client, err := NewClient(ClientOptions{APIURL: api, Token: d.Token, Retry: d.Retry})
	if err != nil {
		return err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := client.Execute(ctx, plan, time.Now())
	if res.Comment != nil {
		verb := "updated"
		if res.Comment.Created {
			verb = "created"
		}
		fmt.Fprintf(d.Log, "%s: %s comment %s\n", d.Name, verb, res.Comment.URL)
	}
	if res.Statuses > 0 || res.Checks > 0 {
		fmt.Fprintf(d.Log, "%s: %d commit statuses, %d check runs on %s\n", d.Name, res.Statuses, res.Checks, plan.Target.SHA)
	}
	return err
}

// dryRun prints the plan, the outputs and the annotations. In Actions the output is fenced
// with stop-commands, so that report text cannot act as a workflow command.
func dryRun(d Delivery, plan Plan, outputs []Output, annotations []string) error {
	w := d.Stdout
	if d.Actions.InActions {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		fence := hex.EncodeToString(b)
		fmt.Fprintf(w, "::stop-commands::%s\n", fence)
		defer fmt.Fprintf(w, "::%s::\n", fence)
	}
	plan.Print(w)
	for _, a := range annotations {
		fmt.Fprintf(w, "annotation %s\n", a)
	}
	for _, o := range outputs {
		if o.Name != "report" {
			fmt.Fprintf(w, "output %s=%s\n", o.Name, o.Value)
		}
	}
	fmt.Fprintln(w, "output report=(the comment body above)")
	return nil
}

// ResolveTarget takes the repository, pull request and commit as given (flags), else from the
// Actions environment. Errors name the value, not a flag: the caller adds where it came from.
func ResolveTarget(repo string, pr int, sha string, act ActionsEnv) (Target, error) {
	var t Target
	if repo == "" {
		repo = act.Repository
	}
	if repo != "" {
		o, r, err := ParseRepo(repo)
		if err != nil {
			return t, fmt.Errorf("repository: %w", err)
		}
		t.Owner, t.Repo = o, r
	}
	t.PR, t.SHA = pr, sha
	if ev := act.Event; ev != nil && ev.PR > 0 {
		if t.PR == 0 {
			t.PR = ev.PR
		}
		if t.SHA == "" {
			// Actions checks out a merge commit for pull requests; statuses belong on the head.
			t.SHA = ev.HeadSHA
		}
	}
	if t.SHA == "" {
		t.SHA = act.SHA
	}
	// A commit from a flag, the event payload or GITHUB_SHA ends up in a REST path.
	return t, t.Validate()
}

// AddHistory charts each suite's nightly history from st, for the suites whose environment key
// keys names. The chart is context, not verdict: what cannot be read costs its chart and a
// warning (returned), not the publish.
func AddHistory(st baseline.Store, in *Input, keys map[string]string) (warnings []string) {
	for i, s := range in.Suites {
		key := keys[s.Name]
		if key == "" {
			continue
		}
		h, err := st.History(s.Name, key)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("no history chart for %s: %v", s.Name, err))
			continue
		}
		in.Suites[i].History = HistoryPoints(h.Nightly())
	}
	return warnings
}

// AddSiteLinks links each suite whose environment key keys names to its page on the nightly
// dashboard published at siteURL (`tailgate site`, config github.site_url); none when empty.
func AddSiteLinks(in *Input, siteURL string, keys map[string]string) {
	if siteURL == "" {
		return
	}
	for i, s := range in.Suites {
		if key := keys[s.Name]; key != "" {
			in.Suites[i].Dashboard = strings.TrimSuffix(siteURL, "/") + "/" + site.KeyPath(s.Name, key)
		}
	}
}

// Token is the first token set in TokenVars, read with getenv; it must never reach output or
// files.
func Token(getenv func(string) string) string {
	for _, v := range TokenVars {
		if t := strings.TrimSpace(getenv(v)); t != "" {
			return t
		}
	}
	return ""
}
