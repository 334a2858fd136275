package gate

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
)

// Merged returns every interval of the run (all tags) merged into one result.NewHistogram(), as
// result.Result.Merged does for a result in memory, from the per-tag tails the run kept: the
// percentile curve and the pWCET of a 48-hour run without a histogram per interval.
func (r *Run) Merged() *hdrhistogram.Histogram {
	h := result.NewHistogram()
	for i := range r.Tags {
		h.Merge(r.Tail(i))
	}
	return h
}

// LoadPairWith is LoadPair with another loader (a report's streamed summaries): the two sides
// in parallel, base nil without baseDir, both sides' errors at once.
func LoadPairWith[T any](baseDir, candDir string, load func(string) (*T, error)) (base, cand *T, err error) {
	return loadPair(baseDir, candDir, load)
}
