package measure

import (
	"testing"

	"github.com/tailgate-ci/tailgate/harness"
)

// TestWholeSessions: meta.json records sessions only when the log holds them whole; a session
// an arm or a signal cut short leaves rounds no session count divides.
func TestWholeSessions(t *testing.T) {
	cases := []struct {
		name            string
		rounds, planned int
		want            int
	}{
		{"four whole sessions", 32, 8, 4},
		{"stopped between sessions", 16, 8, 2},
		{"cut short in the second session", 13, 8, 0},
		{"one session", 8, 8, 1},
		{"nothing planned", 0, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := wholeSessions(&harness.ABReport{Rounds: c.rounds, Planned: c.planned}); got != c.want {
				t.Errorf("wholeSessions(%d rounds of %d a session) = %d, want %d", c.rounds, c.planned, got, c.want)
			}
		})
	}
}
