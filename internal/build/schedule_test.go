package build

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeExec records the order tasks run in; fail and reuse name tasks to fail or reuse.
type fakeExec struct {
	mu    sync.Mutex
	order []string
	fail  map[string]bool
	reuse map[string]bool
	sleep time.Duration
}

func (f *fakeExec) Ready(name string) (bool, error) { return f.reuse[name], nil }

func (f *fakeExec) Run(ctx context.Context, name string) error {
	time.Sleep(f.sleep)
	f.mu.Lock()
	f.order = append(f.order, name)
	f.mu.Unlock()
	if f.fail[name] {
		return errors.New("boom")
	}
	return nil
}

func TestScheduleOrderFailureAndBlocking(t *testing.T) {
	tasks := []Task{
		{Name: "base"},
		{Name: "lib", Deps: []string{"base"}},
		{Name: "app", Deps: []string{"lib"}},
		{Name: "tool", Deps: []string{"base"}},
		{Name: "other"},
		{Name: "external", Deps: []string{"not-a-task"}},
	}
	ex := &fakeExec{fail: map[string]bool{"lib": true}, reuse: map[string]bool{"tool": true}}
	out := Schedule(context.Background(), tasks, 1, ex, false, nil)
	if out["lib"].Err == nil || out["app"].Blocker != "lib" || out["app"].Err != nil {
		t.Errorf("lib failed, app should be blocked by it: lib %+v, app %+v", out["lib"], out["app"])
	}
	if !out["tool"].Reused || out["other"].Err != nil || out["external"].Err != nil || out["other"].Blocker != "" {
		t.Errorf("unrelated tasks: tool %+v other %+v external %+v", out["tool"], out["other"], out["external"])
	}
	// One worker, longest chain first: base (chain of 3) before other (1).
	if ex.order[0] != "base" {
		t.Errorf("order %v: base has the longest chain behind it", ex.order)
	}
	for _, n := range ex.order {
		if n == "app" || n == "tool" {
			t.Errorf("%s ran", n)
		}
	}
}

func TestScheduleStopOnFailure(t *testing.T) {
	tasks := []Task{{Name: "a"}, {Name: "b", Deps: []string{"a"}}, {Name: "c", Deps: []string{"b"}}, {Name: "z", Deps: []string{"c"}}}
	ex := &fakeExec{fail: map[string]bool{"a": true}}
	out := Schedule(context.Background(), append(tasks, Task{Name: "y"}), 1, ex, true, nil)
	if out["a"].Err == nil || out["y"].Blocker != "stopped after a failure" {
		t.Errorf("a %+v, y %+v", out["a"], out["y"])
	}
}

func TestScheduleParallelAndEvents(t *testing.T) {
	var tasks []Task
	for _, n := range []string{"a", "b", "c", "d"} {
		tasks = append(tasks, Task{Name: n})
	}
	tasks = append(tasks, Task{Name: "all", Deps: []string{"a", "b", "c", "d"}})
	ex := &fakeExec{sleep: 50 * time.Millisecond}
	var maxRunning int
	out := Schedule(context.Background(), tasks, 4, ex, false, func(e Event) {
		maxRunning = max(maxRunning, len(e.Running))
	})
	// Four independent tasks of 50 ms each on four workers run together.
	if maxRunning != 4 || out["all"].Err != nil || out["all"].Worker < 0 {
		t.Errorf("max running %d, all %+v", maxRunning, out["all"])
	}
}

func TestScheduleCycleIsReported(t *testing.T) {
	tasks := []Task{{Name: "a", Deps: []string{"b"}}, {Name: "b", Deps: []string{"a"}}, {Name: "c"}}
	out := Schedule(context.Background(), tasks, 2, &fakeExec{}, false, nil)
	if out["a"].Blocker != "waits on a build cycle" || out["b"].Blocker != "waits on a build cycle" || out["c"].Err != nil || out["c"].Blocker != "" {
		t.Errorf("a %+v, b %+v, c %+v", out["a"], out["b"], out["c"])
	}
}

func TestScheduleAfterWaitsForFailuresToo(t *testing.T) {
	tasks := []Task{
		{Name: "a"},
		{Name: "b", Deps: []string{"a"}},
		{Name: "c"},
		{Name: "late", After: []string{"b", "c"}},
	}
	ex := &fakeExec{fail: map[string]bool{"a": true}}
	out := Schedule(context.Background(), tasks, 2, ex, false, nil)
	if out["b"].Blocker != "a" {
		t.Errorf("b: %+v", out["b"])
	}
	if out["late"].Err != nil || out["late"].Blocker != "" || out["late"].Start.Before(out["c"].End) {
		t.Errorf("late should run after c, though b was blocked: late %+v c %+v", out["late"], out["c"])
	}
	if last := ex.order[len(ex.order)-1]; last != "late" {
		t.Errorf("order %v", ex.order)
	}
}
