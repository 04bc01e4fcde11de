// Command schedule benchmarks the package stage's scheduler (see
// bench/README.md): on random build graphs with random durations, the
// builder replaced by a fake that sleeps, it prints the makespan divided
// by the lower bound max(critical path, total work / workers).
//
//	go run ./bench/schedule [-nodes 1200] [-seed 1]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"sync"
	"time"

	"slipway/internal/build"
)

func main() {
	nodes := flag.Int("nodes", 1200, "tasks in each graph")
	seed := flag.Int64("seed", 1, "random seed")
	unit := flag.Duration("unit", 200*time.Microsecond, "duration of one unit of work")
	flag.Parse()
	fmt.Printf("random DAGs of %d tasks, durations 1-50 units of %s, seed %d\n", *nodes, *unit, *seed)
	fmt.Printf("%8s %12s %12s %12s %8s\n", "workers", "makespan", "lower bound", "crit. path", "ratio")
	for _, workers := range []int{2, 8, 32} {
		tasks, dur := randomGraph(*nodes, *seed, *unit)
		ex := &sleeper{planned: dur, actual: map[string]time.Duration{}}
		start := time.Now()
		build.Schedule(context.Background(), tasks, workers, ex, false, nil)
		makespan := time.Since(start)
		// The bound uses the durations the tasks really took (a sleep
		// overshoots a little), so the ratio measures the scheduler alone.
		crit, total := criticalPath(tasks, ex.actual), time.Duration(0)
		for _, d := range ex.actual {
			total += d
		}
		bound := max(crit, total/time.Duration(workers))
		fmt.Printf("%8d %12s %12s %12s %8.3f\n", workers, makespan.Round(time.Millisecond),
			bound.Round(time.Millisecond), crit.Round(time.Millisecond), float64(makespan)/float64(bound))
	}
}

// randomGraph makes a layered random DAG, like a distro: many small
// packages, a few long chains. Task i depends only on tasks before it.
func randomGraph(n int, seed int64, unit time.Duration) ([]build.Task, map[string]time.Duration) {
	rng := rand.New(rand.NewSource(seed))
	tasks := make([]build.Task, n)
	dur := map[string]time.Duration{}
	for i := range tasks {
		name := fmt.Sprintf("t%04d", i)
		d := time.Duration(1+rng.Intn(50)) * unit
		if rng.Intn(20) == 0 {
			d *= 5 // a few big packages
		}
		dur[name] = d
		tasks[i] = build.Task{Name: name, Weight: d}
		for k := rng.Intn(4); k > 0 && i > 0; k-- {
			dep := i - 1 - rng.Intn(min(i, 60))
			tasks[i].Deps = append(tasks[i].Deps, fmt.Sprintf("t%04d", dep))
		}
	}
	return tasks, dur
}

func criticalPath(tasks []build.Task, dur map[string]time.Duration) time.Duration {
	finish := map[string]time.Duration{}
	var best time.Duration
	for _, t := range tasks { // tasks are in topological order
		var start time.Duration
		for _, d := range t.Deps {
			start = max(start, finish[d])
		}
		finish[t.Name] = start + dur[t.Name]
		best = max(best, finish[t.Name])
	}
	return best
}

// sleeper is the fake builder: each task sleeps its planned duration,
// and the time it really took is recorded.
type sleeper struct {
	planned map[string]time.Duration
	mu      sync.Mutex
	actual  map[string]time.Duration
}

func (s *sleeper) Ready(string) (bool, error) { return false, nil }

func (s *sleeper) Run(ctx context.Context, name string) error {
	start := time.Now()
	time.Sleep(s.planned[name])
	s.mu.Lock()
	s.actual[name] = time.Since(start)
	s.mu.Unlock()
	return nil
}
