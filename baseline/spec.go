package baseline

import (
	"errors"
	"fmt"
	"strings"
)

// Store kinds.
const (
	KindFS  = "fs"
	KindGit = "git"
)

// Defaults for a store given without all its parts.
const (
	// DefaultPath is the folder of the default local store.
	DefaultPath = ".tailgate"
	// DefaultDataBranch is the branch a git store uses when none is named.
	DefaultDataBranch = "tailgate-data"
)

// Spec says where a store is. It is the config's `store:` key ({kind: fs, path: .tailgate} or
// {kind: git, repo: ., branch: tailgate-data}) and the parsed form of --store.
type Spec struct {
	Kind   string `json:"kind" yaml:"kind"`
	Path   string `json:"path,omitempty" yaml:"path,omitempty"`
	Repo   string `json:"repo,omitempty" yaml:"repo,omitempty"`
	Branch string `json:"branch,omitempty" yaml:"branch,omitempty"`
}

// ParseSpec parses a --store value: "" (the default folder), a folder path, "fs:PATH",
// "git:URL#BRANCH" or "git:URL" (branch tailgate-data). URL may be a local path. The branch is
// taken after the last '#', so URLs without a fragment keep working.
func ParseSpec(s string) (Spec, error) {
	var sp Spec
	switch {
	case s == "":
		sp = Spec{Kind: KindFS, Path: DefaultPath}
	case strings.HasPrefix(s, "git:"):
		rest := strings.TrimPrefix(s, "git:")
		sp = Spec{Kind: KindGit, Repo: rest, Branch: DefaultDataBranch}
		if i := strings.LastIndex(rest, "#"); i >= 0 {
			sp.Repo, sp.Branch = rest[:i], rest[i+1:]
		}
	case strings.HasPrefix(s, "fs:"):
		sp = Spec{Kind: KindFS, Path: strings.TrimPrefix(s, "fs:")}
	default:
		sp = Spec{Kind: KindFS, Path: s}
	}
	if err := sp.Validate(); err != nil {
		return Spec{}, fmt.Errorf("--store %q: %w", s, err)
	}
	return sp, nil
}

// WithDefaults fills an empty kind, path and branch with the defaults.
func (s Spec) WithDefaults() Spec {
	if s.Kind == "" {
		s.Kind = KindFS
	}
	if s.Kind == KindFS && s.Path == "" {
		s.Path = DefaultPath
	}
	if s.Kind == KindGit && s.Branch == "" {
		s.Branch = DefaultDataBranch
	}
	return s
}

// Validate reports every problem with s at once.
func (s Spec) Validate() error {
	var errs []error
	switch s.Kind {
	case KindFS:
		if s.Path == "" {
			errs = append(errs, errors.New("fs store: path is empty"))
		}
		if s.Repo != "" || s.Branch != "" {
			errs = append(errs, errors.New("fs store: repo and branch are for kind git"))
		}
	case KindGit:
		if s.Repo == "" {
			errs = append(errs, errors.New("git store: repo is empty"))
		}
		// A leading dash would be read by git as an option.
		if strings.HasPrefix(s.Repo, "-") {
			errs = append(errs, fmt.Errorf("git store: repo %q must not start with '-'", s.Repo))
		}
		if err := validateBranch(s.Branch); err != nil {
			errs = append(errs, err)
		}
		if s.Path != "" {
			errs = append(errs, errors.New("git store: path is for kind fs"))
		}
	default:
		errs = append(errs, fmt.Errorf("store kind %q unknown (want %q or %q)", s.Kind, KindFS, KindGit))
	}
	return errors.Join(errs...)
}

// validateBranch applies the subset of git's ref rules that matter here: a branch that git
// accepts and that cannot be mistaken for an option or a revision range.
func validateBranch(b string) error {
	bad := b == "" || strings.HasPrefix(b, "-") || strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/") ||
		strings.HasSuffix(b, ".lock") || strings.Contains(b, "..") || strings.Contains(b, "@{") ||
		strings.Contains(b, "//") || strings.HasSuffix(b, ".")
	for _, r := range b {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`~^:?*[\`, r) {
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("git store: branch %q is not a valid branch name", b)
	}
	return nil
}

// String renders s in --store form.
func (s Spec) String() string {
	if s.Kind == KindGit {
		return "git:" + s.Repo + "#" + s.Branch
	}
	return s.Path
}
