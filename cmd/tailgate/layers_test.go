package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps the packages in the brief's order, bottom to top:
//
//	0  harness, fixtures and baseline/result, the result format: the vocabulary every layer
//	   speaks (harness emits result.Interval and records with result's histogram geometry)
//	1  baseline (stores, history), the rest of it, baseline/importer (other tools' data into results) included
//	2  gate
//	3  runner, all of it (runner/measure and runner/ci included)
//	4  cmd
//
// A package may import its own layer and the layers below, never one above: so no package
// under runner/ (nor anything else) imports cmd, and baseline/result imports nothing of
// baseline's above it. A package's layer is that of the longest entry naming it or a folder
// above it.
func TestLayers(t *testing.T) {
	const mod = "github.com/tailgate-ci/tailgate/"
	rank := map[string]int{"fixtures": 0, "harness": 0, "baseline/result": 0, "baseline": 1, "baseline/importer": 1, "gate": 2, "runner": 3, "cmd": 4}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	layer := func(pkg string) (string, bool) {
		p := strings.TrimPrefix(pkg, mod)
		for {
			if _, ok := rank[p]; ok {
				return p, true
			}
			i := strings.LastIndexByte(p, '/')
			if i < 0 {
				return p, false
			}
			p = p[:i]
		}
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from, ok := layer(f[0])
		if !ok {
			t.Errorf("package %s is outside the brief's folders", f[0])
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			to, _ := layer(imp)
			checked++
			if rank[to] > rank[from] {
				t.Errorf("%s imports %s: %s may not import %s", f[0], imp, from, to)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no imports between the project's packages were checked")
	}
}
