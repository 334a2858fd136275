package ortlib

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLocateOrder(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	p := CachePath(cache)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	flagLib := filepath.Join(dir, "flag.so")
	os.WriteFile(flagLib, []byte("x"), 0o644)
	envLib := filepath.Join(dir, "env.so")
	os.WriteFile(envLib, []byte("x"), 0o644)

	tests := []struct {
		name    string
		s       Search
		want    string
		wantErr bool
	}{
		{"flag wins", Search{Flag: flagLib, Env: envLib, CacheDirs: []string{cache}}, flagLib, false},
		{"env next", Search{Env: envLib, CacheDirs: []string{cache}}, envLib, false},
		{"cache last", Search{CacheDirs: []string{filepath.Join(dir, "nope"), cache}}, p, false},
		{"missing flag file is an error", Search{Flag: filepath.Join(dir, "missing.so"), CacheDirs: []string{cache}}, "", true},
		{"nothing found", Search{CacheDirs: []string{filepath.Join(dir, "nope")}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Locate(tt.s)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	_, err := Locate(Search{CacheDirs: []string{filepath.Join(dir, "nope")}})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
}
