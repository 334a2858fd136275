package result

import (
	"fmt"
	"strings"
	"time"
)

// AB is meta.json's record of an interleaved A/B run: both arms ran in one process on one
// timing thread, in Rounds rounds of Round each, in the order Order says, and latency.hlog holds
// one interval per arm per round, tagged with the arm's name ("A" or "B").
type AB struct {
	Rounds int           `json:"rounds"`
	Round  time.Duration `json:"round_ns"`
	// Discard is how many inferences after each switch of arm were run untimed.
	Discard int `json:"discard"`
	// Seed seeded the order of the arms; Order holds the arm that ran first in each round.
	Seed  int64  `json:"seed"`
	Order string `json:"order"`
	// Arms are A (the baseline of the comparison) and B (the candidate), in that order.
	Arms []Arm `json:"arms"`
	// Sessions is how many times the whole A/B was run with fresh worker processes and fresh
	// sessions (0 or 1: once); Rounds and Order then cover all sessions, Rounds/Sessions each,
	// and session s ordered its rounds with Seed+s.
	Sessions int `json:"sessions,omitempty"`
}

// Arm is one arm of an A/B run: what it ran and how much of it was timed.
type Arm struct {
	Name        string `json:"name"`
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256"`
	// Session holds the session options as they were applied (ONNX Runtime's names).
	Session   map[string]string `json:"session,omitempty"`
	Inputs    []InputSpec       `json:"inputs,omitempty"`
	Threads   int               `json:"threads"`
	Samples   int64             `json:"samples"`
	Warmup    int64             `json:"warmup"`
	Discarded int64             `json:"discarded"`
	// Worker is the command line of an arm run by an out-of-process worker, and Runtime,
	// Version and Device what its handshake named; all empty for an in-process arm.
	Worker  string `json:"worker,omitempty"`
	Runtime string `json:"runtime,omitempty"`
	Version string `json:"version,omitempty"`
	Device  string `json:"device,omitempty"`
}

// SessionRounds is the rounds of one session: all of them when the A/B ran once.
func (a *AB) SessionRounds() int {
	if a.Sessions > 1 {
		return a.Rounds / a.Sessions
	}
	return a.Rounds
}

// Design says how the A/B was interleaved: "K rounds", or "S session pairs of K rounds".
func (a *AB) Design() string {
	if a.Sessions > 1 {
		return fmt.Sprintf("%d session pairs of %d rounds", a.Sessions, a.SessionRounds())
	}
	return fmt.Sprintf("%d rounds", a.Rounds)
}

// ArmNames are the arms' names in the order AB.Arms holds them; they are their log tags.
var ArmNames = [2]string{"A", "B"}

// validate reports what a writer never produces: arms other than A then B, an order that is
// not one A or B per round, a non-positive round.
func (a *AB) validate() []error {
	var errs []error
	if len(a.Arms) != 2 || a.Arms[0].Name != ArmNames[0] || a.Arms[1].Name != ArmNames[1] {
		errs = append(errs, fmt.Errorf("ab.arms: want arms A then B"))
	}
	if a.Rounds < 1 || a.Round <= 0 {
		errs = append(errs, fmt.Errorf("ab: rounds %d of %s: want at least one round of a positive length", a.Rounds, a.Round))
	}
	if len(a.Order) != a.Rounds || strings.Trim(a.Order, "AB") != "" {
		errs = append(errs, fmt.Errorf("ab.order %q: want one A or B per round (%d)", a.Order, a.Rounds))
	}
	if a.Sessions < 0 || a.Sessions > 1 && a.Rounds%a.Sessions != 0 {
		errs = append(errs, fmt.Errorf("ab.sessions %d: want a positive count that divides the rounds (%d)", a.Sessions, a.Rounds))
	}
	return errs
}

// IsAB reports whether the result is an interleaved A/B run.
func (m *Meta) IsAB() bool { return m.AB != nil }
