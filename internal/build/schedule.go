// Package build is the package stage: it decides for every spec whether to
// build it, reuse its outputs from the store, take it from the toolchain,
// or report it blocked, and runs the builds on N workers in isolated build
// roots, longest remaining chain first.
package build

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Task is one unit of scheduled work: a spec's build.
type Task struct {
	Name string
	Deps []string // tasks that must succeed first
	// After are tasks that must finish first, whether they succeed or
	// not (a build waiting for whatever may provide what it needs).
	After []string
	// Weight estimates the task's duration (for example its last build
	// time); it orders ready tasks by the longest remaining chain. 0 = 1.
	Weight time.Duration
}

// Exec does the work of tasks for Schedule.
type Exec interface {
	// Ready is called when a task's dependencies have all succeeded, in
	// the scheduler's goroutine: it returns true when the task needs no
	// run (its result is reused) or an error that fails it at once.
	Ready(name string) (reuse bool, err error)
	// Run runs the task on a worker.
	Run(ctx context.Context, name string) error
}

// Outcome is what happened to a task.
type Outcome struct {
	Reused  bool
	Err     error  // the task failed
	Blocker string // the task did not run: this failed (or blocked) task was needed first
	Start   time.Time
	End     time.Time
	Worker  int // which worker ran it (-1 when it did not run)
}

// Verb says what happened in a word: built, reused, FAILED or blocked.
func (o *Outcome) Verb() string {
	switch {
	case o.Reused:
		return "reused"
	case o.Err != nil:
		return "FAILED"
	case o.Blocker != "":
		return "blocked"
	}
	return "built"
}

// Line describes a finished task in one line: what happened, its time or
// what blocked it.
func (o *Outcome) Line(name string) string {
	line := fmt.Sprintf("%-7s %s", o.Verb(), name)
	switch {
	case o.Blocker != "":
		line += " (needs " + o.Blocker + ")"
	case !o.Reused:
		line += fmt.Sprintf(" (%s)", o.End.Sub(o.Start).Round(time.Millisecond))
	}
	return line
}

// Event reports progress: a task started or finished.
type Event struct {
	Name     string
	Started  bool
	Outcome  *Outcome // set when finished
	Running  []string // tasks running now
	Finished int      // tasks finished (any outcome)
	Total    int
}

// Schedule runs tasks on workers, starting among the ready tasks the one
// with the longest remaining chain of work behind it. A failure does not
// stop unrelated tasks (unless stopOnFailure); the tasks that need it are
// reported blocked, naming it. Unknown dependencies are ignored (they are
// satisfied outside the schedule).
func Schedule(ctx context.Context, tasks []Task, workers int, ex Exec, stopOnFailure bool, events func(Event)) map[string]*Outcome {
	if workers < 1 {
		workers = 1
	}
	byName := map[string]*Task{}
	for i := range tasks {
		byName[tasks[i].Name] = &tasks[i]
	}
	users := map[string][]string{}
	followers := map[string][]string{} // task -> tasks that come After it
	waiting := map[string]int{}
	for _, t := range tasks {
		for _, d := range t.Deps {
			if _, ok := byName[d]; ok && d != t.Name {
				users[d] = append(users[d], t.Name)
				waiting[t.Name]++
			}
		}
		for _, d := range t.After {
			if _, ok := byName[d]; ok && d != t.Name {
				followers[d] = append(followers[d], t.Name)
				waiting[t.Name]++
			}
		}
	}
	height := heights(tasks, byName, users)
	out := map[string]*Outcome{}

	var ready []string
	for _, t := range tasks {
		if waiting[t.Name] == 0 {
			ready = append(ready, t.Name)
		}
	}
	type done struct {
		name   string
		err    error
		worker int
		start  time.Time
	}
	finished := make(chan done)
	running := map[string]bool{}
	free := make([]int, workers) // free worker ids, as a stack
	for i := range free {
		free[i] = workers - 1 - i
	}
	stopped := false
	var mu sync.Mutex // guards nothing shared with workers but keeps events ordered
	emit := func(e Event) {
		if events == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for n := range running {
			e.Running = append(e.Running, n)
		}
		sort.Strings(e.Running)
		e.Finished, e.Total = len(out), len(tasks)
		events(e)
	}

	// release counts a dependency of u as settled.
	release := func(u string) {
		if waiting[u]--; waiting[u] == 0 {
			if _, blocked := out[u]; !blocked {
				ready = append(ready, u)
			}
		}
	}
	// finish releases the tasks that come after a task, however it ended.
	finish := func(name string) {
		for _, f := range followers[name] {
			release(f)
		}
	}
	// block marks everything that needs name (transitively) as blocked by it.
	var block func(name, blocker string)
	block = func(name, blocker string) {
		finish(name)
		for _, u := range users[name] {
			if _, seen := out[u]; !seen {
				out[u] = &Outcome{Blocker: blocker, Worker: -1}
				emit(Event{Name: u, Outcome: out[u]})
				block(u, blocker)
			}
		}
	}
	// succeed releases the users of a finished task.
	succeed := func(name string) {
		finish(name)
		for _, u := range users[name] {
			release(u)
		}
	}

	for {
		// Settle ready tasks that need no run, then start the best ones.
		for len(ready) > 0 && len(free) > 0 && !stopped && ctx.Err() == nil {
			sort.SliceStable(ready, func(i, j int) bool {
				if height[ready[i]] != height[ready[j]] {
					return height[ready[i]] > height[ready[j]]
				}
				return ready[i] < ready[j]
			})
			name := ready[0]
			ready = ready[1:]
			reuse, err := ex.Ready(name)
			now := time.Now()
			switch {
			case err != nil:
				out[name] = &Outcome{Err: err, Start: now, End: now, Worker: -1}
				emit(Event{Name: name, Outcome: out[name]})
				block(name, name)
				stopped = stopOnFailure
			case reuse:
				out[name] = &Outcome{Reused: true, Start: now, End: now, Worker: -1}
				emit(Event{Name: name, Outcome: out[name]})
				succeed(name)
			default:
				w := free[len(free)-1]
				free = free[:len(free)-1]
				running[name] = true
				emit(Event{Name: name, Started: true})
				go func() {
					err := ex.Run(ctx, name)
					finished <- done{name, err, w, now}
				}()
			}
		}
		if len(running) == 0 && (len(ready) == 0 || stopped || ctx.Err() != nil) {
			break
		}
		d := <-finished
		delete(running, d.name)
		free = append(free, d.worker)
		out[d.name] = &Outcome{Err: d.err, Start: d.start, End: time.Now(), Worker: d.worker}
		emit(Event{Name: d.name, Outcome: out[d.name]})
		if d.err != nil {
			block(d.name, d.name)
			stopped = stopped || stopOnFailure
		} else {
			succeed(d.name)
		}
	}
	// Whatever did not get to run (stopped, cancelled) is blocked.
	for _, t := range tasks {
		if _, ok := out[t.Name]; !ok {
			reason := "waits on a build cycle" // nothing else keeps a task from ever being ready
			switch {
			case ctx.Err() != nil:
				reason = "cancelled"
			case stopped:
				reason = "stopped after a failure"
			}
			out[t.Name] = &Outcome{Blocker: reason, Worker: -1}
		}
	}
	return out
}

// heights is, per task, its weight plus the largest height among the
// tasks that need it: the work left on the longest chain it starts.
func heights(tasks []Task, byName map[string]*Task, users map[string][]string) map[string]time.Duration {
	h := map[string]time.Duration{}
	visiting := map[string]bool{}
	var visit func(string) time.Duration
	visit = func(n string) time.Duration {
		if v, ok := h[n]; ok {
			return v
		}
		if visiting[n] {
			return 0 // a cycle: never scheduled anyway
		}
		visiting[n] = true
		w := byName[n].Weight
		if w <= 0 {
			w = time.Nanosecond
		}
		var best time.Duration
		for _, u := range users[n] {
			best = max(best, visit(u))
		}
		h[n] = w + best
		return h[n]
	}
	for _, t := range tasks {
		visit(t.Name)
	}
	return h
}
