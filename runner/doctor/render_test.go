package doctor

import (
	"strings"
	"testing"
)

func TestWrapText(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"a bb ccc", 4, "a bb\nccc"},
		{"exit latency 400 µs", 7, "exit\nlatency\n400 µs"},
		{"/sys/devices/x:firmware/get_throttled = 0", 10, "/sys/devic\nes/x:firmw\nare/get_th\nrottled =\n0"},
		{"", 5, ""},
	}
	for _, tt := range tests {
		if got := wrapText(tt.in, tt.width); got != tt.want {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		// Nothing is lost: the words survive, only spaces become line breaks.
		if got := strings.Join(strings.Fields(strings.ReplaceAll(wrapText(tt.in, tt.width), "\n", "")), ""); got != strings.Join(strings.Fields(tt.in), "") {
			t.Errorf("wrapText(%q) lost text: %q", tt.in, got)
		}
	}
}
