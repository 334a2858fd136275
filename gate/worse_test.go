package gate_test

import (
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
)

func TestWorseExit(t *testing.T) {
	tests := []struct{ a, b, want int }{
		{gate.ExitPass, gate.ExitInconclusive, gate.ExitInconclusive},
		{gate.ExitRegression, gate.ExitInconclusive, gate.ExitRegression},
		{gate.ExitInconclusive, gate.ExitRegression, gate.ExitRegression},
		{gate.ExitRegression, gate.ExitIncomparable, gate.ExitIncomparable},
		{gate.ExitIncomparable, gate.ExitError, gate.ExitError},
		{gate.ExitPass, 99, 99}, // unknown codes count as errors
		{gate.ExitPass, gate.ExitPass, gate.ExitPass},
	}
	for _, tt := range tests {
		if got := gate.WorseExit(tt.a, tt.b); got != tt.want {
			t.Errorf("WorseExit(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
