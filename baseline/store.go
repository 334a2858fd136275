package baseline

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Errors a caller tells apart with errors.Is.
var (
	// ErrNoBaseline means the suite and key have no promoted baseline.
	ErrNoBaseline = errors.New("no baseline")
	// ErrNotFound means a named suite, key or run is not in the store.
	ErrNotFound = errors.New("not found")
	// ErrIntegrity means a stored file does not match its recorded SHA-256 or size, or the
	// store's structure was altered: the store must not be trusted until it is repaired.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrPolicy means a promotion was refused by the promotion policy.
	ErrPolicy = errors.New("promotion refused by policy")
)

// Store keeps results per suite and per environment key, the baseline of each, and an
// append-only history. Every method is safe against concurrent processes using the same store.
// Runs are handed out streamed (RunReader): what is read of them is verified against their
// manifest, and nothing holds a whole log in memory.
type Store interface {
	// Spec says where the store is.
	Spec() Spec
	// Suites lists the suites that have stored runs, sorted.
	Suites() ([]string, error)
	// Keys lists the environment keys stored for suite, sorted.
	Keys(suite string) ([]string, error)
	// Runs lists the runs stored for suite and key, oldest first.
	Runs(suite, key string) ([]RunInfo, error)
	// Add copies the result directory dir into the store (meta.json, latency.hlog and, when
	// present, telemetry.jsonl) and records their SHA-256. Adding the same result twice is a
	// no-op that returns the stored run.
	Add(dir string) (RunInfo, error)
	// OpenRun opens one stored run for streaming: its meta.json verified against the run's
	// manifest, its latency.hlog verified as it is read (see RunReader). The caller closes it.
	OpenRun(suite, key, id string) (*RunReader, error)
	// OpenBaseline opens the baseline of suite and key as OpenRun, also checking the run's
	// manifest is the one promoted; errors.Is(err, ErrNoBaseline) when there is none.
	OpenBaseline(suite, key string) (*RunReader, error)
	// Pointer returns the baseline record of suite and key; errors.Is(err, ErrNoBaseline) when none.
	Pointer(suite, key string) (*Pointer, error)
	// Promote makes a stored run the baseline if the policy allows it (or p.Force), and records
	// the promotion in the history.
	Promote(p Promotion) (HistoryEntry, error)
	// Append adds one entry to the history of e.Suite and e.Key.
	Append(e HistoryEntry) error
	// History reads the history of suite and key, oldest first.
	History(suite, key string) (*History, error)
	// Prune removes all but the newest keep runs of suite and key, never removing a run that
	// is or ever was a baseline. It returns the ids it removed.
	Prune(suite, key string, keep int) ([]string, error)
	// Verify checks every stored file against its manifest, every baseline record and every
	// history file, and returns all problems found (each wrapping ErrIntegrity) joined.
	Verify() error
	// Close releases the store.
	Close() error
}

// RunInfo describes one stored run.
type RunInfo struct {
	Suite   string             `json:"suite"`
	Key     string             `json:"key"`
	ID      string             `json:"id"`
	Start   time.Time          `json:"start"`
	Git     result.Git         `json:"git"`
	Env     result.Fingerprint `json:"env"`
	Summary result.Summary     `json:"summary"`
	Healthy bool               `json:"healthy"`
	// Baseline is true for the current baseline; EverBaseline for every run that has been one.
	Baseline     bool `json:"baseline"`
	EverBaseline bool `json:"ever_baseline"`
}

// Promotion asks for a stored run to become the baseline of its suite and key.
type Promotion struct {
	Suite, Key, Run string
	// Verdict is the caller's verdict for the run against the current baseline: "pass",
	// "fail", "inconclusive", "incomparable", or "" when the run was not compared.
	Verdict string
	// DefaultBranch is the repository's default branch (DefaultBranch when empty).
	DefaultBranch string
	// Force overrides the policy; Reason must then say why.
	Force  bool
	Reason string
	// By names who or what promoted (a user, "ci").
	By   string
	Time time.Time
}

// Options tune how a store is opened.
type Options struct {
	// CacheDir holds the private clones of git stores (required for kind git).
	CacheDir string
	// Warn receives warnings (e.g. a torn history line being repaired); nil discards them.
	Warn io.Writer
	// PushRetries bounds how often a git store refetches and re-applies a change after a
	// rejected push (DefaultPushRetries when 0).
	PushRetries int
	// GitTimeout bounds each git command (DefaultGitTimeout when 0).
	GitTimeout time.Duration
	// Now returns the current time (time.Now when nil).
	Now func() time.Time
	// GitToken authenticates a git store whose remote is an https URL on GitTokenHost (the
	// job's GitHub token). It is handed to git in the environment of the commands that talk to
	// the remote only (an http.https://HOST/.extraheader through GIT_CONFIG_COUNT), never in
	// argv or in a file, and never to another host. The library does not read it from the
	// environment: the caller fills it (tailgate: $TAILGATE_GITHUB_TOKEN, else $GITHUB_TOKEN).
	GitToken string
	// GitTokenHost is the host[:port] GitToken is for (DefaultGitTokenHost when empty; the
	// host of $GITHUB_SERVER_URL on GitHub Enterprise).
	GitTokenHost string

	// gitConfig are extra -c options for every git call (tests: a test server's CA).
	gitConfig []string
}

// Defaults for Options.
const (
	DefaultPushRetries = 10
	DefaultGitTimeout  = 2 * time.Minute
	// DefaultBranch is the default branch promotions must come from when none is configured.
	DefaultBranch = "main"
)

func (o Options) withDefaults() Options {
	if o.Warn == nil {
		o.Warn = io.Discard
	}
	if o.PushRetries == 0 {
		o.PushRetries = DefaultPushRetries
	}
	if o.GitTimeout == 0 {
		o.GitTimeout = DefaultGitTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Open opens the store spec names. A folder store is created on its first write.
func Open(spec Spec, opt Options) (Store, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	opt = opt.withDefaults()
	switch spec.Kind {
	case KindFS:
		return openFS(spec, opt)
	case KindGit:
		if opt.CacheDir == "" {
			return nil, fmt.Errorf("git store %s: no cache folder for its private clone", spec)
		}
		return openGit(spec, opt)
	}
	return nil, fmt.Errorf("store kind %q unknown", spec.Kind)
}

// OpenDir opens the folder store at dir (a shorthand for tests and tools).
func OpenDir(dir string, opt Options) (Store, error) {
	return Open(Spec{Kind: KindFS, Path: filepath.Clean(dir)}, opt)
}
