package measure_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/harness/ortlib/ortlibtest"
	"github.com/tailgate-ci/tailgate/runner/measure"
)

// TestMeasureABTelemetry: an A/B run samples the board once per round as a single run samples
// it once per interval, and a board that throttles marks the A/B result unhealthy, as it would
// mark a single run: pairing cancels what both arms saw, not a state one arm ran under alone.
func TestMeasureABTelemetry(t *testing.T) {
	lib := ortlibtest.Path(t)
	model := filepath.Join(ortlibtest.RepoRoot(t), "fixtures", "models", "vision-fp32.onnx")
	for _, tc := range []struct {
		name, word string
		unhealthy  bool
		// round zero: automatic rounds over a duration, whose count is known only once the
		// first session has run.
		round time.Duration
	}{
		{"steady board, automatic rounds", "0\n", false, 0},
		{"under-voltage and throttling", "50005\n", true, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "pi5-rt")
			if err := os.CopyFS(root, os.DirFS(filepath.Join(ortlibtest.RepoRoot(t), "fixtures", "hosts", "pi5-rt"))); err != nil {
				t.Fatal(err)
			}
			word := filepath.Join(root, "sys/devices/platform/soc@107c000000/soc@107c000000:firmware/get_throttled")
			_ = os.Chmod(word, 0o644)
			if err := os.WriteFile(word, []byte(tc.word), 0o644); err != nil {
				t.Fatal(err)
			}
			req := measure.ABRequest{Models: [2]string{model, model}, Threads: [2]int{1, 1}, Rounds: 8, Round: tc.round, Sessions: 2, Out: t.TempDir()}
			if tc.round == 0 {
				req.Rounds, req.Duration = 0, 8*harness.MinAutoRound
			}
			p, err := measure.ResolveAB(req)
			if err != nil {
				t.Fatal(err)
			}
			m, err := measure.MeasureAB(context.Background(), p, measure.Options{Root: root,
				ORT: func() (ortlib.Library, error) { return ortlib.Load(lib) }})
			if err != nil {
				t.Fatal(err)
			}
			tel, err := result.ReadTelemetry(p.Out)
			if err != nil {
				t.Fatal(err)
			}
			// One line per round of both sessions, numbered on across them.
			if len(tel) != 16 || tel[15].Interval != 15 || tel[0].Throttled == nil {
				t.Fatalf("%d telemetry lines (last %+v), want 16 rounds numbered 0-15 with the throttle word", len(tel), tel[len(tel)-1])
			}
			reasons := strings.Join(m.Health.Reasons, "; ")
			if m.Health.Healthy == tc.unhealthy || tc.unhealthy != strings.Contains(reasons, "throttle word 0x50005") {
				t.Errorf("health %+v, want unhealthy %v for throttle word %q", m.Health, tc.unhealthy, tc.word)
			}
		})
	}
}
