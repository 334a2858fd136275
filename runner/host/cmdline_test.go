package host

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      map[string]string
		isolList  string
		isolFlags []string
	}{
		{"pi", "console=tty1 root=PARTUUID=6c586e13-02 rootwait isolcpus=3 nohz_full=3 rcu_nocbs=3\n",
			map[string]string{"console": "tty1", "root": "PARTUUID=6c586e13-02", "rootwait": "", "isolcpus": "3", "nohz_full": "3", "rcu_nocbs": "3"}, "3", nil},
		{"isolcpus flags", "isolcpus=managed_irq,domain,2-3",
			map[string]string{"isolcpus": "managed_irq,domain,2-3"}, "2-3", []string{"managed_irq", "domain"}},
		{"quoted value", `dyndbg="file foo.c +p" quiet`,
			map[string]string{"dyndbg": "file foo.c +p", "quiet": ""}, "", nil},
		{"last wins", "isolcpus=1 isolcpus=3", map[string]string{"isolcpus": "3"}, "3", nil},
		{"init args after --", "quiet -- isolcpus=3 --init", map[string]string{"quiet": ""}, "", nil},
		{"empty", "", map[string]string{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ParseCmdline(tt.in)
			if !reflect.DeepEqual(c.Params, tt.want) {
				t.Errorf("Params = %#v, want %#v", c.Params, tt.want)
			}
			list, flags := c.IsolatedCPUs()
			if list != tt.isolList || !reflect.DeepEqual(flags, tt.isolFlags) {
				t.Errorf("IsolatedCPUs = %q %v, want %q %v", list, flags, tt.isolList, tt.isolFlags)
			}
		})
	}
}

// FuzzParseCmdline checks that parsing never panics, that Order and Params agree, and that
// no parameter name holds whitespace.
func FuzzParseCmdline(f *testing.F) {
	for _, s := range []string{"console=tty1 isolcpus=nohz,domain,3", `a="b c" d`, `"`, "-- x", "a= =b", "\x00isolcpus=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := ParseCmdline(s)
		if len(c.Order) != len(c.Params) {
			t.Fatalf("Order %q and Params %q disagree", c.Order, c.Params)
		}
		for _, n := range c.Order {
			if _, ok := c.Params[n]; !ok {
				t.Fatalf("%q in Order, not in Params", n)
			}
			if strings.ContainsAny(n, " \t\n") && !strings.Contains(n, `"`) {
				t.Fatalf("parameter name %q holds whitespace outside quotes", n)
			}
		}
		list, _ := c.IsolatedCPUs()
		_, _ = ParseCPUList(list)
	})
}
