package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"slipway/internal/graph"
)

// depsCommand makes `deps` (what NAME needs) or, reverse, `rdeps` (what needs NAME).
func (a *app) depsCommand(reverse bool) *cobra.Command {
	var build, run bool
	use, short := "deps NAME", "List what a spec or package needs, transitively"
	long := `List what NAME (a spec or a package) needs, transitively.

--run: the packages installed with it at run time (Requires, following run
edges only). --build: everything its build needs first: the packages in its
build root, their run-time dependencies, and the builds that make them.
Without either flag, both lists.`
	if reverse {
		use, short = "rdeps NAME", "List what needs a spec or package, transitively"
		long = `List what needs NAME (a spec or a package), transitively.

--run: the packages that need it at run time (following run edges only).
--build: the builds that need it, directly or through other packages and
builds, and so must be rebuilt after it. Without either flag, both lists.`
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !build && !run {
				build, run = true, true
			}
			t, err := a.loadTree(cmd.Context())
			if err != nil {
				return err
			}
			g := t.Graph
			start, err := g.Resolve(args)
			if err != nil {
				return usageError{err}
			}
			dir := graph.Forward
			if reverse {
				dir = graph.Backward
			}
			node := &g.Nodes[start[0]]
			if run {
				// Run-time relations are between packages: a spec stands for its packages.
				pkgs := start
				if node.Kind == graph.BuildNode {
					pkgs = nil
					for _, e := range g.In(start[0]) {
						if e.Kind == graph.FromEdge {
							pkgs = append(pkgs, e.From)
						}
					}
				}
				a.printNodes(g, "run", g.Reach(pkgs, dir, graph.RunEdge))
			}
			if build {
				from := start
				if !reverse && node.Kind == graph.PackageNode {
					from = nil // a package needs for its build what its spec's build needs
					for _, e := range g.Out(start[0]) {
						if e.Kind == graph.FromEdge {
							from = append(from, e.To)
						}
					}
				}
				a.printNodes(g, "build", g.Reach(from, dir, graph.BuildEdge, graph.RunEdge, graph.FromEdge))
			}
			return evalProblems(t)
		},
	}
	cmd.Flags().BoolVar(&build, "build", false, "only build relations")
	cmd.Flags().BoolVar(&run, "run", false, "only run-time relations")
	return cmd
}

func (a *app) printNodes(g *graph.Graph, section string, nodes []int) {
	for _, i := range nodes {
		n := &g.Nodes[i]
		kind := "package"
		if n.Kind == graph.BuildNode {
			kind = "build"
		}
		extra := ""
		if n.Prebuilt {
			extra = " (pre-built)"
		}
		fmt.Fprintf(a.stdout, "%s\t%s\t%s\t%s%s\n", section, kind, n.Name, n.EVR, extra)
	}
}
