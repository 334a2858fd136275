package publish

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// DefaultTrustedLabel is the label a maintainer puts on a fork's pull request, after reading its
// code, to let it run on the self-hosted board.
const DefaultTrustedLabel = "tailgate-trusted"

// MaxEventBytes bounds the event payload read; GitHub's are far smaller.
const MaxEventBytes = 25 << 20

// Event is the part of an Actions event payload ($GITHUB_EVENT_PATH) that publishing and the
// fork guard need.
type Event struct {
	// Name is the event's name ($GITHUB_EVENT_NAME) when known.
	Name string
	// Action is the event's activity type (opened, synchronize, labeled …); Label is the label
	// a labeled event added.
	Action string
	Label  string
	// PR is the pull request number; zero when the event is not about a pull request.
	PR       int
	HeadSHA  string
	HeadRepo string // owner/name the pull request's code comes from
	BaseRepo string // owner/name it targets
	Fork     bool
	Labels   []string
	// Foreign is set for a trusted event other than a pull request (e.g. a workflow_run)
	// whose code comes from another repository: it counts as a fork, with no label to vouch.
	Foreign bool
}

type rawEvent struct {
	Action string `json:"action"`
	Label  *struct {
		Name string `json:"name"`
	} `json:"label"`
	Number      int `json:"number"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
			SHA  string   `json:"sha"`
			Repo *rawRepo `json:"repo"`
		} `json:"head"`
		Base struct {
			Repo *rawRepo `json:"repo"`
		} `json:"base"`
		Labels []struct {
			Name string `json:"name"`
		} `json:"labels"`
	} `json:"pull_request"`
	Repository *rawRepo `json:"repository"`

	// Other events that concern a pull request without being one.
	Issue *struct {
		Number      int              `json:"number"`
		PullRequest *json.RawMessage `json:"pull_request"`
	} `json:"issue"`
	Review      *json.RawMessage `json:"review"`
	Comment     *json.RawMessage `json:"comment"`
	WorkflowRun *rawSuite        `json:"workflow_run"`
	CheckSuite  *rawSuite        `json:"check_suite"`
	CheckRun    *struct {
		PullRequests []json.RawMessage `json:"pull_requests"`
		HeadSHA      string            `json:"head_sha"`
	} `json:"check_run"`
}

// rawSuite is the part of a workflow_run or check_suite payload that says whose code it ran.
type rawSuite struct {
	PullRequests   []json.RawMessage `json:"pull_requests"`
	HeadSHA        string            `json:"head_sha"`
	HeadRepository *rawRepo          `json:"head_repository"`
}

type rawRepo struct {
	FullName string `json:"full_name"`
	Fork     bool   `json:"fork"`
}

// The events whose payload is a pull request tailgate vets (the fork guard, TrustedPR).
const (
	EventPullRequest       = "pull_request"
	EventPullRequestTarget = "pull_request_target"
)

// noPREvents never carry pull-request data: a payload of theirs that names one is refused.
var noPREvents = map[string]bool{"schedule": true, "workflow_dispatch": true, "push": true, "repository_dispatch": true}

// EventRules say which events may bring pull-request data into a run. Only pull_request and
// pull_request_target are vetted by default: the others that concern a pull request
// (issue_comment on one, pull_request_review, pull_request_review_comment, workflow_run and
// check_suite/check_run about one or about a fork's code) carry too little to tell whose code
// it is, or let anyone who can comment start a run, so they are refused as untrusted unless
// TrustEvents names them. A trusted one is then vetted like a pull request (a fork still needs
// the trusted label, on the event that added it).
type EventRules struct {
	// TrustEvents names the events, besides pull_request and pull_request_target, whose
	// pull-request data is accepted.
	TrustEvents []string
}

func (r EventRules) trusts(event string) bool {
	for _, e := range r.TrustEvents {
		if e == event {
			return true
		}
	}
	return false
}

// ParseEvent reads an event payload with the default rules and no event name; name is the
// file it came from, for messages. A payload that is not about a pull request gives an Event
// with PR zero; one that concerns a pull request through another event (a comment, a review,
// a workflow_run) is refused.
func ParseEvent(name string, b []byte) (*Event, error) {
	return EventRules{}.Parse("", name, b)
}

// Parse reads the payload b of the event named event ($GITHUB_EVENT_NAME; "" when unknown,
// then the payload's shape tells); name is the file it came from, for messages. It refuses
// pull-request data from schedule, workflow_dispatch, push and repository_dispatch, and from
// every event other than pull_request and pull_request_target that r does not trust.
func (r EventRules) Parse(event, name string, b []byte) (*Event, error) {
	var raw rawEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("event payload %s: %w", name, err)
	}
	ev := &Event{Name: event, Action: raw.Action}
	if raw.Label != nil {
		ev.Label = raw.Label.Name
	}
	other, about := indirectPR(&raw)
	pr := raw.PullRequest
	if other == "" && pr != nil && event != "" && event != EventPullRequest && event != EventPullRequestTarget && !noPREvents[event] {
		other, about = event, "a pull request"
	}
	switch {
	case noPREvents[event] && (pr != nil || other != ""):
		return nil, fmt.Errorf("event payload %s: a %s event never carries pull request data, but this one is about %s: refused", name, event, about)
	case other != "" && (event == EventPullRequest || event == EventPullRequestTarget):
		return nil, fmt.Errorf("event payload %s: a %s event shaped like a %s event: refused", name, event, other)
	case other != "":
		if event == "" {
			event = other
		}
		if !r.trusts(event) {
			return nil, fmt.Errorf("event payload %s: refusing a %s event about %s as untrusted: only %s and %s events are vetted (the fork guard); trust %s explicitly only if anyone who can trigger it may run code on the board", name, event, about, EventPullRequest, EventPullRequestTarget, event)
		}
	}
	if pr == nil {
		if raw.Repository != nil {
			ev.BaseRepo = raw.Repository.FullName
		}
		if other == "" {
			return ev, nil
		}
		// A trusted indirect event: what it says about the code, for the fork guard.
		return indirectEvent(ev, &raw, name)
	}
	ev.PR = pr.Number
	if ev.PR == 0 {
		ev.PR = raw.Number
	}
	ev.HeadSHA = pr.Head.SHA
	if pr.Head.Repo != nil {
		ev.HeadRepo = pr.Head.Repo.FullName
		ev.Fork = pr.Head.Repo.Fork
	}
	switch {
	case pr.Base.Repo != nil:
		ev.BaseRepo = pr.Base.Repo.FullName
	case raw.Repository != nil:
		ev.BaseRepo = raw.Repository.FullName
	}
	for _, l := range pr.Labels {
		ev.Labels = append(ev.Labels, l.Name)
	}
	var errs []string
	if ev.PR <= 0 {
		errs = append(errs, fmt.Sprintf("pull_request.number %d is not a pull request number", ev.PR))
	}
	if ev.HeadSHA == "" {
		errs = append(errs, "pull_request.head.sha is missing")
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("event payload %s: %s", name, strings.Join(errs, "; "))
	}
	return ev, nil
}

// indirectPR says which other event a payload is when it concerns a pull request or a fork's
// code without being a pull_request event ("" when it does not), and what it is about.
func indirectPR(raw *rawEvent) (event, about string) {
	repo := ""
	if raw.Repository != nil {
		repo = raw.Repository.FullName
	}
	foreign := func(s *rawSuite) bool {
		return s != nil && (len(s.PullRequests) > 0 || (s.HeadRepository != nil && !strings.EqualFold(s.HeadRepository.FullName, repo)))
	}
	switch {
	case raw.PullRequest != nil && raw.Review != nil:
		return "pull_request_review", "a pull request"
	case raw.PullRequest != nil && raw.Comment != nil:
		return "pull_request_review_comment", "a pull request"
	case raw.Issue != nil && raw.Issue.PullRequest != nil:
		return "issue_comment", fmt.Sprintf("pull request #%d", raw.Issue.Number)
	case foreign(raw.WorkflowRun):
		return "workflow_run", "a pull request or a fork's code"
	case foreign(raw.CheckSuite):
		return "check_suite", "a pull request or a fork's code"
	case raw.CheckRun != nil && len(raw.CheckRun.PullRequests) > 0:
		return "check_run", "a pull request"
	}
	return "", ""
}

// indirectEvent fills ev from a trusted event that concerns a pull request through another
// event. Whose code it is must be known (head repository and commit), else it is refused; a
// pull request number it cannot give stays zero, so nothing is commented.
func indirectEvent(ev *Event, raw *rawEvent, name string) (*Event, error) {
	var s *rawSuite
	switch {
	case raw.WorkflowRun != nil:
		s = raw.WorkflowRun
	case raw.CheckSuite != nil:
		s = raw.CheckSuite
	}
	if s == nil || s.HeadRepository == nil || s.HeadSHA == "" {
		return nil, fmt.Errorf("event payload %s: the event does not say whose code it is (head repository and commit): refused", name)
	}
	ev.HeadSHA, ev.HeadRepo, ev.Fork = s.HeadSHA, s.HeadRepository.FullName, s.HeadRepository.Fork
	ev.Foreign = ev.Fork || !strings.EqualFold(ev.HeadRepo, ev.BaseRepo)
	return ev, nil
}

// Read reads and parses the payload at path of the event named event, under r.
func (r EventRules) Read(event, path string) (*Event, error) {
	b, err := readEventFile(path)
	if err != nil {
		return nil, err
	}
	return r.Parse(event, path, b)
}

// ReadEvent reads and parses the event payload at path (ParseEvent's rules).
func ReadEvent(path string) (*Event, error) {
	return EventRules{}.Read("", path)
}

// readEventFile reads at most MaxEventBytes of the payload at path.
func readEventFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("event payload: %w", err)
	}
	defer f.Close()
	b := make([]byte, 0, 64<<10)
	buf := bytes.NewBuffer(b)
	if _, err := buf.ReadFrom(io.LimitReader(f, MaxEventBytes+1)); err != nil {
		return nil, fmt.Errorf("event payload %s: %w", path, err)
	}
	if buf.Len() > MaxEventBytes {
		return nil, fmt.Errorf("event payload %s: larger than %d bytes", path, MaxEventBytes)
	}
	return buf.Bytes(), nil
}

// HasLabel reports whether the pull request carries label.
func (e *Event) HasLabel(label string) bool {
	for _, l := range e.Labels {
		if l == label {
			return true
		}
	}
	return false
}

// FromFork reports whether the pull request's code comes from another repository.
func (e *Event) FromFork() bool {
	return e.Foreign || (e.PR != 0 && (e.Fork || e.HeadRepo == "" || !strings.EqualFold(e.HeadRepo, e.BaseRepo)))
}

// TrustedPR refuses to run a pull request from a fork on a self-hosted board unless a
// maintainer vouched for exactly this code: the event must be the one that added trustedLabel
// (only someone with write access can label). A label left on the pull request does not cover
// commits pushed after it (a "synchronize" event): the fork's author could push anything once
// the label is on, so a maintainer reads the new commits and applies the label again. Events
// that are not pull requests (pushes, schedules) run code already in the repository and are
// trusted. A pull request whose head repository is unknown (deleted fork) counts as a fork.
func TrustedPR(ev *Event, trustedLabel string) error {
	if ev == nil {
		return fmt.Errorf("no event payload: cannot tell whether the code is trusted")
	}
	if !ev.FromFork() {
		return nil
	}
	from := ev.HeadRepo
	if from == "" {
		from = "an unknown (deleted?) repository"
	}
	switch {
	case trustedLabel == "":
		return fmt.Errorf("refusing pull request #%d from fork %s: its code would run on the self-hosted board, and no trusted label is configured (--trusted-label)", ev.PR, from)
	case ev.Action == "labeled" && ev.Label == trustedLabel && ev.HasLabel(trustedLabel):
		return nil
	case ev.HasLabel(trustedLabel):
		return fmt.Errorf("refusing pull request #%d from fork %s on a %q event: the label %q was applied before the latest commits; a maintainer who has read them removes and re-applies it", ev.PR, from, ev.Action, trustedLabel)
	}
	return fmt.Errorf("refusing pull request #%d from fork %s: its code would run on the self-hosted board; a maintainer who has read the change can add the label %q to run it", ev.PR, from, trustedLabel)
}

// ActionsEnv is what the Actions environment says about the run.
type ActionsEnv struct {
	InActions    bool
	EventName    string
	Repository   string
	SHA          string
	Event        *Event
	RunURL       string
	ArtifactsURL string
	APIURL       string
	StepSummary  string
	Output       string
}

// FromActions reads the Actions environment through getenv with the default event rules (no
// event but pull_request and pull_request_target may carry pull-request data).
func FromActions(getenv func(string) string) (ActionsEnv, error) {
	return EventRules{}.FromActions(getenv)
}

// FromActions reads the Actions environment through getenv. The event payload is read when
// GITHUB_EVENT_PATH is set, under r with $GITHUB_EVENT_NAME; a payload that cannot be read or
// that r refuses is an error, since it decides both where to publish and whether the code is
// trusted.
func (r EventRules) FromActions(getenv func(string) string) (ActionsEnv, error) {
	a := ActionsEnv{
		InActions:   getenv("GITHUB_ACTIONS") == "true",
		EventName:   getenv("GITHUB_EVENT_NAME"),
		Repository:  getenv("GITHUB_REPOSITORY"),
		SHA:         getenv("GITHUB_SHA"),
		APIURL:      getenv("GITHUB_API_URL"),
		StepSummary: getenv("GITHUB_STEP_SUMMARY"),
		Output:      getenv("GITHUB_OUTPUT"),
	}
	server, run := strings.TrimSuffix(getenv("GITHUB_SERVER_URL"), "/"), getenv("GITHUB_RUN_ID")
	if server != "" && a.Repository != "" && run != "" {
		a.RunURL = server + "/" + a.Repository + "/actions/runs/" + run
		if att := getenv("GITHUB_RUN_ATTEMPT"); att != "" && att != "1" {
			a.RunURL += "/attempts/" + att
		}
		a.ArtifactsURL = server + "/" + a.Repository + "/actions/runs/" + run + "#artifacts"
	}
	if p := getenv("GITHUB_EVENT_PATH"); p != "" {
		ev, err := r.Read(a.EventName, p)
		if err != nil {
			return a, err
		}
		a.Event = ev
	}
	// A pull request event whose payload names no pull request would read as a trusted push.
	if strings.HasPrefix(a.EventName, "pull_request") && (a.Event == nil || a.Event.PR == 0) {
		return a, fmt.Errorf("event %s: the payload (GITHUB_EVENT_PATH=%q) names no pull request", a.EventName, getenv("GITHUB_EVENT_PATH"))
	}
	return a, nil
}
