package host

import (
	"strings"
)

// Cmdline is the kernel command line (/proc/cmdline) split into parameters.
type Cmdline struct {
	// Params maps each parameter to its value ("" for a bare flag such as "quiet"). When a
	// parameter repeats, the last one wins, as it does for the kernel's own early parsing.
	Params map[string]string
	// Order lists the parameter names in the order they first appear.
	Order []string
}

// ParseCmdline splits a kernel command line. It honours double quotes around values
// (param="a b") and stops at a bare "--", after which arguments belong to init.
func ParseCmdline(s string) Cmdline {
	c := Cmdline{Params: map[string]string{}}
	for _, tok := range splitCmdline(s) {
		if tok == "--" {
			break
		}
		name, val, _ := strings.Cut(tok, "=")
		val = strings.Trim(val, `"`)
		if _, ok := c.Params[name]; !ok {
			c.Order = append(c.Order, name)
		}
		c.Params[name] = val
	}
	return c
}

// splitCmdline splits on whitespace outside double quotes, like the kernel's next_arg.
func splitCmdline(s string) []string {
	var out []string
	var b strings.Builder
	inQuote := false
	flush := func() {
		if b.Len() > 0 {
			out = append(out, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			b.WriteRune(r)
		case !inQuote && (r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == 0):
			flush()
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}

// Get returns the value of a parameter and whether it was present.
func (c Cmdline) Get(name string) (string, bool) {
	v, ok := c.Params[name]
	return v, ok
}

// isolcpusFlags are the isolcpus= flags that may precede the CPU list ("isolcpus=nohz,domain,3").
var isolcpusFlags = map[string]bool{"nohz": true, "domain": true, "managed_irq": true}

// IsolatedCPUs returns the CPU list part of isolcpus= (flags such as "domain," or
// "managed_irq," stripped) and the flags. Both are empty when isolcpus= is absent.
func (c Cmdline) IsolatedCPUs() (list string, flags []string) {
	v, ok := c.Params["isolcpus"]
	if !ok {
		return "", nil
	}
	parts := strings.Split(v, ",")
	i := 0
	for i < len(parts) && isolcpusFlags[parts[i]] {
		flags = append(flags, parts[i])
		i++
	}
	return strings.Join(parts[i:], ","), flags
}
