package result

// ValueAtQuantile returns the value at percentile q (0–100) as hdrhistogram's ValueAtQuantile
// reports it for a histogram of b's geometry holding b's counts: the top of the bucket where the
// running count first reaches the rank round(q/100·Total) (at least 1, at most Total); 0 when b
// is empty. It walks only the populated buckets, so a per-interval p99 of a streamed log costs
// no dense histogram.
func (b *Buckets) ValueAtQuantile(q float64) int64 {
	if b.Total == 0 || len(b.Index) == 0 {
		return 0
	}
	q = min(max(q, 0), 100)
	rank := int64(1)
	switch r := q/100*float64(b.Total) + 0.5; {
	case r >= float64(b.Total):
		rank = b.Total
	case r >= 1:
		rank = int64(r)
	}
	g := b.geometry()
	var seen int64
	for i, c := range b.Count {
		if seen += c; seen >= rank {
			if q == 0 {
				return g.value(b.Index[i])
			}
			return g.highestEquivalent(g.value(b.Index[i]))
		}
	}
	return g.highestEquivalent(g.value(b.Index[len(b.Index)-1]))
}
