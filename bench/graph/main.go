// Command graph benchmarks spec evaluation and graph building on a
// synthetic tree (see bench/README.md):
//
//	go run ./bench/graph -specs 3000
//
// It prints the cold, warm and one-spec-touched runs with the number of
// rpm processes each started, peak memory, and the cost of the floor: one
// bare `rpmspec -P` per spec at the same parallelism.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"slipway/bench/specgen"
	"slipway/internal/project"
	"slipway/internal/workspace"
)

func main() {
	n := flag.Int("specs", 3000, "number of specs to generate")
	jobs := flag.Int("j", runtime.NumCPU(), "parallel evaluations")
	dir := flag.String("dir", "", "where to generate the tree (default: a temporary directory, removed after)")
	floor := flag.Bool("floor", true, "also time one bare rpmspec -P per spec")
	flag.Parse()
	if err := run(*n, *jobs, *dir, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, jobs int, dir string, floor bool) error {
	ctx := context.Background()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "slipway-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	tree, err := specgen.Generate(dir, n, 1)
	if err != nil {
		return err
	}
	p, err := project.Load(dir)
	if err != nil {
		return err
	}
	fmt.Printf("synthetic tree: %d specs (3 packages each), -j %d, %s\n", n, jobs, runtime.Version())

	pass := func(label string) (time.Duration, error) {
		start := time.Now()
		t, err := workspace.Load(ctx, p, workspace.Options{Jobs: jobs})
		if err != nil {
			return 0, err
		}
		total := time.Since(start)
		st := t.Eval.Stats
		if st.Failed > 0 {
			return 0, fmt.Errorf("%s: %d specs failed, first: %v", label, st.Failed, t.Eval.Errors[0])
		}
		fmt.Printf("%-22s total %8s  evaluate %8s  graph %7s  evaluated %5d  cached %5d  rpm processes: %d helper + %d forked parses (%.3f per spec)  nodes %d edges %d\n",
			label, total.Round(time.Millisecond), st.Duration.Round(time.Millisecond), t.GraphTime.Round(time.Millisecond),
			st.Evaluated, st.Cached, st.HelperProcesses, st.Evaluated, float64(st.Evaluated)/float64(n),
			len(t.Graph.Nodes), len(t.Graph.Edges))
		return total, nil
	}

	// The floor is measured on a sample of the specs just before and just
	// after the cold run, so a change in the machine's load shows as a gap
	// between the two instead of skewing the ratio.
	var sample []string
	for i := 0; i < n; i += max(1, n/300) {
		sample = append(sample, tree.Specs[i])
	}
	var floorBefore time.Duration
	if floor {
		if floorBefore, err = bareRpmspec(ctx, dir, sample, jobs, p.Defines()); err != nil {
			return err
		}
	}
	cold, err := pass("cold")
	if err != nil {
		return err
	}
	if _, err := pass("warm (unchanged)"); err != nil {
		return err
	}
	touched := filepath.Join(dir, "SPECS", tree.Specs[n/2])
	f, err := os.OpenFile(touched, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "# touched by the benchmark")
	f.Close()
	if _, err := pass("one spec touched"); err != nil {
		return err
	}

	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	fmt.Printf("peak memory: slipway %d MB, largest rpm helper %d MB\n", self.Maxrss/1024, children.Maxrss/1024)

	if floor {
		floorAfter, err := bareRpmspec(ctx, dir, sample, jobs, p.Defines())
		if err != nil {
			return err
		}
		perSpec := func(d time.Duration, k int) float64 { return float64(d.Microseconds()) / 1000 / float64(k) }
		before, after := perSpec(floorBefore, len(sample)), perSpec(floorAfter, len(sample))
		ours := perSpec(cold, n)
		fmt.Printf("floor: one bare rpmspec -P per spec at -j %d, on %d of the specs: %.1f ms per spec before the cold run, %.1f after (wall time / specs)\n",
			jobs, len(sample), before, after)
		fmt.Printf("cold evaluation: %.1f ms per spec; cold / floor = %.2f (below 1: faster than one rpmspec process per spec)\n",
			ours, ours/((before+after)/2))
	}
	return nil
}

// bareRpmspec times `rpmspec -P` on every spec, jobs at a time.
func bareRpmspec(ctx context.Context, dir string, specs []string, jobs int, defines []string) (time.Duration, error) {
	var args []string
	for _, d := range defines {
		args = append(args, "-D", d)
	}
	start := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, s := range specs {
		path := filepath.Join(dir, "SPECS", s)
		g.Go(func() error {
			cmd := exec.CommandContext(ctx, "rpmspec", append(append([]string{"-P"}, args...), path)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("rpmspec -P %s: %v: %s", s, err, strings.TrimSpace(string(out)))
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}
