package gate_test

import (
	"math"
	"testing"

	"github.com/tailgate-ci/tailgate/gate"
)

func TestGroupDigits(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {46050, "46,050"}, {-123, "-123"}, {-1234567, "-1,234,567"},
		{math.MaxInt64, "9,223,372,036,854,775,807"}, {math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := gate.GroupDigits(tc.n); got != tc.want {
			t.Errorf("GroupDigits(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
