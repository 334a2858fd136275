package host

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr string
	}{
		{"", nil, ""},
		{" \n", nil, ""},
		{"3", []int{3}, ""},
		{"0-2,5", []int{0, 1, 2, 5}, ""},
		{"5,0-2", []int{0, 1, 2, 5}, ""},
		{"1,1,0-1", []int{0, 1}, ""},
		{"0-7:2", []int{0, 2, 4, 6}, ""},
		{"3\n", []int{3}, ""},
		{"a", nil, `"a" is not a CPU id`},
		{"2-1", nil, "range end is below its start"},
		{"1,,2", nil, "empty element"},
		{"-1", nil, "is not a CPU id"},
		{"+1", nil, "is not a CPU id"},
		{"3:2", nil, "a stride needs a range"},
		{"0-4:0", nil, "stride must be a positive integer"},
		{"0-99999", nil, "above the limit"},
		// Every bad element is named, not only the first.
		{"x,2-1", nil, "range end"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCPUList(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCPUList(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCPUList(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCPUList(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatCPUList(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1, 2, 5}, "0-2,5"},
		{[]int{5, 0, 2, 1, 1}, "0-2,5"},
		{[]int{0, 2, 4}, "0,2,4"},
		{[]int{1, 2, 4, 5, 6}, "1-2,4-6"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatCPUList(tt.in); got != tt.want {
				t.Errorf("FormatCPUList(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSetOps(t *testing.T) {
	if got := Subtract([]int{0, 1, 2, 3}, []int{3, 1}); !reflect.DeepEqual(got, []int{0, 2}) {
		t.Errorf("Subtract = %v", got)
	}
	if got := Intersect([]int{3, 0, 1, 3}, []int{1, 3, 7}); !reflect.DeepEqual(got, []int{1, 3}) {
		t.Errorf("Intersect = %v", got)
	}
}

// FuzzParseCPUList checks that whatever parses renders back to a list that parses to the same
// CPUs, and that nothing panics.
func FuzzParseCPUList(f *testing.F) {
	for _, s := range []string{"0-2,5", "3", "", "0-7:2", "1,1", "2-1", "x", "0-8191", "4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cpus, err := ParseCPUList(s)
		if err != nil {
			return
		}
		for i, c := range cpus {
			if c < 0 || c > MaxCPU || (i > 0 && cpus[i-1] >= c) {
				t.Fatalf("ParseCPUList(%q) = %v: not sorted, unique and in range", s, cpus)
			}
		}
		again, err := ParseCPUList(FormatCPUList(cpus))
		if err != nil || !reflect.DeepEqual(again, cpus) {
			t.Fatalf("round trip of %q via %q = %v, %v; want %v", s, FormatCPUList(cpus), again, err, cpus)
		}
	})
}
