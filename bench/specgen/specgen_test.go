package specgen

import (
	"context"
	"testing"

	"slipway/internal/project"
	"slipway/internal/testutil"
	"slipway/internal/workspace"
)

// A small generated tree evaluates cleanly and has the shape the benchmark
// relies on: three packages per spec, no build cycle, a long chain.
func TestGeneratedTreeEvaluates(t *testing.T) {
	testutil.RequireSpecEval(t)
	dir := t.TempDir()
	if _, err := Generate(dir, 30, 1); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := workspace.Load(context.Background(), p, workspace.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Eval.Errors) > 0 {
		t.Fatalf("generated specs fail: %v", tree.Eval.Errors[0])
	}
	if got := len(tree.Graph.Nodes); got != 30*4 {
		t.Errorf("%d nodes, want 120 (30 builds + 90 packages)", got)
	}
	o := tree.Graph.BuildOrder()
	if len(tree.Graph.Cycles) != 0 || len(o.Blocked) != 0 || len(o.CriticalPath) < 5 {
		t.Errorf("cycles %v, blocked %v, critical path %v", tree.Graph.Cycles, o.Blocked, o.CriticalPath)
	}
}
