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
}

type rawRepo struct {
	FullName string `json:"full_name"`
	Fork     bool   `json:"fork"`
}

// ParseEvent reads an event payload; name is the file it came from, for messages. A payload that
// is not about a pull request gives an Event with PR zero.
func ParseEvent(name string, b []byte) (*Event, error) {
	var raw rawEvent
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("event payload %s: %w", name, err)
	}
	ev := &Event{Action: raw.Action}
	if raw.Label != nil {
		ev.Label = raw.Label.Name
	}
	pr := raw.PullRequest
	if pr == nil {
		if raw.Repository != nil {
			ev.BaseRepo = raw.Repository.FullName
		}
		return ev, nil
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

// ReadEvent reads and parses the event payload at path.
func ReadEvent(path string) (*Event, error) {
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
	return ParseEvent(path, buf.Bytes())
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
	return e.PR != 0 && (e.Fork || e.HeadRepo == "" || !strings.EqualFold(e.HeadRepo, e.BaseRepo))
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

// FromActions reads the Actions environment through getenv. The event payload is read when
// GITHUB_EVENT_PATH is set; a payload that cannot be read is an error, since it decides both
// where to publish and whether the code is trusted.
func FromActions(getenv func(string) string) (ActionsEnv, error) {
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
		ev, err := ReadEvent(p)
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
