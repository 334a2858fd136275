package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// MaxCPU bounds the CPU ids ParseCPUList accepts, so that a typo such as "0-99999999" is an
// error instead of a huge allocation. Linux's NR_CPUS tops out at 8192.
const MaxCPU = 8191

// ParseCPUList parses the kernel's CPU list format ("0-2,5", "1,3-4", "0-7:2" with a stride,
// or "" for none) as used by isolcpus=, nohz_full=, rcu_nocbs=, smp_affinity_list and
// /sys/devices/system/cpu/present. It returns sorted, unique ids. Every malformed element is
// reported, not just the first.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	var errs []error
	for _, part := range strings.Split(s, ",") {
		if err := addCPURange(seen, strings.TrimSpace(part)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("CPU list %q: %w", s, errors.Join(errs...))
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Ints(out)
	return out, nil
}

// addCPURange adds one element of a CPU list ("3", "0-2" or "0-7:2") to seen.
func addCPURange(seen map[int]bool, part string) error {
	if part == "" {
		return fmt.Errorf("empty element")
	}
	rng, strideS, hasStride := strings.Cut(part, ":")
	stride := 1
	if hasStride {
		// The kernel's bitmap_parselist also allows "0-7:2/4" (group size); tailgate does not need it.
		n, err := strconv.Atoi(strideS)
		if err != nil || n < 1 {
			return fmt.Errorf("%q: stride must be a positive integer", part)
		}
		stride = n
	}
	loS, hiS, isRange := strings.Cut(rng, "-")
	lo, err := parseCPUID(loS)
	if err != nil {
		return fmt.Errorf("%q: %w", part, err)
	}
	hi := lo
	if isRange {
		if hi, err = parseCPUID(hiS); err != nil {
			return fmt.Errorf("%q: %w", part, err)
		}
	} else if hasStride {
		return fmt.Errorf("%q: a stride needs a range", part)
	}
	if hi < lo {
		return fmt.Errorf("%q: range end is below its start", part)
	}
	for c := lo; c <= hi; c += stride {
		seen[c] = true
	}
	return nil
}

func parseCPUID(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%q is not a CPU id", s)
	}
	if n > MaxCPU {
		return 0, fmt.Errorf("CPU %d is above the limit %d", n, MaxCPU)
	}
	return n, nil
}

// FormatCPUList renders ids in the kernel's compact list format ("0-2,5"). It is the inverse of
// ParseCPUList for sorted, unique input; other input is sorted and deduplicated first.
func FormatCPUList(cpus []int) string {
	if len(cpus) == 0 {
		return ""
	}
	c := append([]int(nil), cpus...)
	sort.Ints(c)
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] <= c[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if c[j] == c[i] {
			fmt.Fprintf(&b, "%d", c[i])
		} else {
			fmt.Fprintf(&b, "%d-%d", c[i], c[j])
		}
		i = j + 1
	}
	return b.String()
}

// Subtract returns the ids in a that are not in b, sorted.
func Subtract(a, b []int) []int {
	drop := map[int]bool{}
	for _, c := range b {
		drop[c] = true
	}
	var out []int
	for _, c := range a {
		if !drop[c] {
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}

// Intersect returns the ids present in both a and b, sorted and unique.
func Intersect(a, b []int) []int {
	in := map[int]bool{}
	for _, c := range b {
		in[c] = true
	}
	seen := map[int]bool{}
	var out []int
	for _, c := range a {
		if in[c] && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	sort.Ints(out)
	return out
}

// OnlineCPUs reads the online CPUs below root ("" or "/" is this host) from
// sys/devices/system/cpu/online.
func OnlineCPUs(root string) ([]int, error) {
	if root == "" {
		root = "/"
	}
	b, err := os.ReadFile(filepath.Join(root, "sys", "devices", "system", "cpu", "online"))
	if err != nil {
		return nil, err
	}
	return ParseCPUList(strings.TrimSpace(string(b)))
}
