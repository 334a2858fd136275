package history

import (
	"fmt"
	"io"
	"strings"

	"github.com/tailgate-ci/tailgate/baseline/storeview"
	"github.com/tailgate-ci/tailgate/gate/changepoint"
)

// TextOptions say what WriteText names and how it lists a change's commits.
type TextOptions struct {
	// Suite and Key name the history in the heading.
	Suite, Key string
	// Analysis is how the changes were found, stated with them.
	Analysis changepoint.Options
	// CommitLog lists the commits of the range from..to, one line each, oldest first; nil
	// leaves the ranges unlisted.
	CommitLog func(from, to string) ([]string, error)
	// Warn receives a failure of CommitLog; nil discards it.
	Warn io.Writer
}

// WriteText writes the nights with their change marks, then each night where the level moved
// with its commit range (and, with o.CommitLog, the commits in it), then any slow creep.
// changes are the nights' changes as Changes returns them.
func WriteText(w io.Writer, nights []Night, changes []Change, o TextOptions) error {
	fmt.Fprintf(w, "suite %s, key %s: %d nights\n", o.Suite, o.Key, len(nights))
	if len(nights) == 0 {
		return nil
	}
	steps := Steps(changes)
	if err := writeTable(w, nights, steps); err != nil {
		return err
	}
	creeps, err := Creeps(nights, changes, o.Analysis)
	if err != nil {
		return err
	}
	method := Method(o.Analysis)
	switch {
	case len(changes) == 0 && len(creeps) == 0:
		fmt.Fprintf(w, "\nno change points (%s)\n", method)
	case len(changes) == 0:
		fmt.Fprintf(w, "\nno change points, but slow creep (%s):\n", method)
	default:
		fmt.Fprintf(w, "\nchange points (%s):\n", method)
	}
	for _, st := range steps {
		writeStep(w, nights[st.Night-1], nights[st.Night], st, o)
	}
	for _, c := range creeps {
		dir := "slower"
		if c.Faster {
			dir = "faster"
		}
		if c.Moves == 0 {
			fmt.Fprintf(w, "  %s drifted %s over nights %d-%d: %s -> %s ms (%+.1f%%, p=%.3f): slow creep, look at the whole range, not one night\n",
				c.Metric, dir, c.Start+1, c.End+1, ms(c.From), ms(c.To), 100*c.Shift(), c.PValue)
			continue
		}
		fmt.Fprintf(w, "  %s moved %d times, always %s: %s -> %s ms (%+.1f%%) overall: slow creep, look at the whole range, not one night\n",
			c.Metric, c.Moves, dir, ms(c.From), ms(c.To), 100*c.Shift())
	}
	return nil
}

// Method states how changes found with opt were found, as WriteText prints it.
func Method(opt changepoint.Options) string {
	or := func(v, def float64) float64 {
		if v == 0 {
			return def
		}
		return v
	}
	alpha, minShift := or(opt.Alpha, changepoint.DefaultAlpha), or(opt.MinShift, changepoint.DefaultMinShift)
	perms := int(or(float64(opt.Permutations), changepoint.DefaultReplicates))
	if opt.Exchangeable {
		perms = int(or(float64(opt.Permutations), changepoint.DefaultPermutations))
		return fmt.Sprintf("E-Divisive means, permutation test p <= %g (%d permutations, seed %d), minimum shift %g%%",
			alpha, perms, opt.Seed, 100*minShift)
	}
	return fmt.Sprintf("step or drift with AR(1) noise, parametric bootstrap p <= %g (%d replicates, seed %d), minimum shift %g%% and %g robust sd",
		alpha, perms, opt.Seed, 100*minShift, or(opt.MinShiftSD, changepoint.DefaultMinShiftSD))
}

func ms(ns float64) string { return storeview.Millis(int64(ns)) }

func day(n Night) string { return n.Time.UTC().Format("2006-01-02") }

// writeTable writes one row per night, marking the nights where a metric moved.
func writeTable(w io.Writer, nights []Night, steps []Step) error {
	marks := map[int]string{}
	for _, st := range steps {
		var m []string
		for _, c := range st.Changes {
			m = append(m, fmt.Sprintf("%s %+.1f%%", c.Metric, 100*c.Shift))
		}
		marks[st.Night] = "<< " + strings.Join(m, ", ")
	}
	t := storeview.NewTable(w, "NIGHT", "DATE", "COMMIT", "P50 ms", "P99 ms", "P99.9 ms", "VERDICT", "CHANGE")
	for i, n := range nights {
		verdict := n.Verdict
		if verdict == "" {
			verdict = "-"
		}
		row := []string{fmt.Sprint(i + 1), day(n), storeview.ShortCommit(n.Commit),
			storeview.Millis(n.P50), storeview.Millis(n.P99), storeview.Millis(n.P999), verdict, marks[i]}
		if err := t.Append(row); err != nil {
			return err
		}
	}
	return t.Render()
}

// writeStep writes one night's changes, the nights either side and the commit range between
// them, listed by o.CommitLog when it is set.
func writeStep(w io.Writer, good, bad Night, st Step, o TextOptions) {
	i := st.Night
	var parts []string
	for _, c := range st.Changes {
		parts = append(parts, fmt.Sprintf("%s %s -> %s ms (%+.1f%%, p=%.3f)", c.Metric, ms(c.Before), ms(c.After), 100*c.Shift, c.PValue))
	}
	from, to := storeview.ShortCommit(good.Commit), storeview.ShortCommit(bad.Commit)
	fmt.Fprintf(w, "  night %d (%s): %s\n", i+1, day(bad), strings.Join(parts, "; "))
	fmt.Fprintf(w, "    last good night %d (%s) commit %s; first bad night %d (%s) commit %s\n", i, day(good), from, i+1, day(bad), to)
	if good.Commit == "" || bad.Commit == "" {
		fmt.Fprintln(w, "    commit range unknown: a night has no recorded commit")
		return
	}
	fmt.Fprintf(w, "    commit range %s..%s\n", from, to)
	if o.CommitLog == nil {
		return
	}
	lines, err := o.CommitLog(good.Commit, bad.Commit)
	if err != nil {
		if o.Warn != nil {
			fmt.Fprintf(o.Warn, "warning: listing the commits of %s..%s: %v\n", from, to, err)
		}
		return
	}
	if len(lines) == 0 {
		fmt.Fprintln(w, "    no commits in the range: the change came from outside the code (environment, data, board)")
	}
	for _, l := range lines {
		fmt.Fprintf(w, "      %s\n", l)
	}
}
