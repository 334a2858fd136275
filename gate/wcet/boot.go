package wcet

import (
	"runtime"
	"sync"
)

// bootstrap runs n parametric-bootstrap refits on up to workers goroutines (0: GOMAXPROCS) and
// returns their outcomes in refit order. draw fills refit k's simulated sample; it is called
// for k = 0, 1, … in order on the calling goroutine, which is the only one to touch the
// analysis's random generator, so refit k sees the same numbers whatever the number of workers
// (and the same as when the refits ran one after the other). refit fits one simulated sample;
// it runs concurrently with other refits and draws, so it must only read shared state. At most
// 2·workers samples of size values are held at a time.
func bootstrap[R any](n, size, workers int, draw func(sim []float64), refit func(sim []float64) R) []R {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]R, n)
	if workers == 1 {
		sim := make([]float64, size)
		for k := range n {
			draw(sim)
			out[k] = refit(sim)
		}
		return out
	}
	type job struct {
		k   int
		sim []float64
	}
	jobs := make(chan job)
	free := make(chan []float64, 2*workers)
	for range 2 * workers {
		free <- make([]float64, size)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				out[j.k] = refit(j.sim)
				free <- j.sim
			}
		})
	}
	for k := range n {
		sim := <-free
		draw(sim)
		jobs <- job{k, sim}
	}
	close(jobs)
	wg.Wait()
	return out
}
