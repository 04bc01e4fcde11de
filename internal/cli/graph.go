package cli

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"slipway/internal/fsutil"
	"slipway/internal/graph"
	"slipway/internal/workspace"
)

func (a *app) graphCommand() *cobra.Command {
	var (
		format string
		goals  []string
		output string
	)
	cmd := &cobra.Command{
		Use:   "graph",
		Short: "Evaluate the specs and show the build/run dependency graph",
		Long: `Evaluate every spec (with the project's macros, results cached under build/)
and resolve the dependency graph: builds need the packages that satisfy their
BuildRequires, packages need what satisfies their Requires.

Formats: "text" (a summary: counts, cycles, unresolved capabilities), "dot"
(Graphviz: render with dot -Tsvg), "json" (documented in docs/graph-json.md).

--goal keeps only what the goals need: a spec name, a package name, or an
image config (a .json path, or a config name under images.configs_dir).`,
		Example: `  slipway graph
  slipway graph --format dot --goal tinyc | dot -Tsvg > tinyc.svg
  slipway graph -C ~/azurelinux --format json --goal core-efi -o graph.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "dot" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want text, dot or json", format)}
			}
			t, err := a.loadTree(cmd.Context())
			if err != nil {
				return err
			}
			g, err := a.pruned(t, goals)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			switch format {
			case "dot":
				err = g.WriteDOT(&buf)
			case "json":
				err = g.WriteJSON(&buf)
			default:
				writeGraphSummary(&buf, g)
			}
			if err != nil {
				return err
			}
			if err := a.emit(output, buf.Bytes()); err != nil {
				return err
			}
			return evalProblems(t)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text, dot or json")
	cmd.Flags().StringSliceVarP(&goals, "goal", "g", nil, "keep only what these need (spec, package or image config; repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (atomically) instead of standard output")
	return cmd
}

// pruned applies --goal; packages an image config names that no spec
// builds are listed as coming from elsewhere.
func (a *app) pruned(t *workspace.Tree, goals []string) (*graph.Graph, error) {
	if len(goals) == 0 {
		return t.Graph, nil
	}
	nodes, external, err := t.Goals(goals)
	if err != nil {
		return nil, usageError{err}
	}
	if len(external) > 0 {
		fmt.Fprintf(a.stderr, "%d goal package(s) no spec builds (expected from the toolchain or a remote repository): %s\n",
			len(external), strings.Join(external, " "))
	}
	return t.Graph.Prune(nodes), nil
}

// emit writes output to a file atomically, or to standard output.
func (a *app) emit(path string, data []byte) error {
	if path == "" || path == "-" {
		_, err := a.stdout.Write(data)
		return err
	}
	return fsutil.WriteFileAtomic(path, data, 0o644)
}

// writeGraphSummary is the text form of a graph.
func writeGraphSummary(w io.Writer, g *graph.Graph) {
	builds, pkgs, prebuilt := 0, 0, 0
	for _, n := range g.Nodes {
		switch {
		case n.Prebuilt:
			prebuilt++
		case n.Kind == graph.BuildNode:
			builds++
		default:
			pkgs++
		}
	}
	order := g.BuildOrder()
	fmt.Fprintf(w, "%d builds, %d packages, %d pre-built nodes, %d edges\n", builds, pkgs, prebuilt, len(g.Edges))
	fmt.Fprintf(w, "critical path: %d build steps: %s\n", len(order.CriticalPath), strings.Join(order.CriticalPath, " -> "))
	writeCycles(w, g.Cycles)
	writeUnresolved(w, g.Unresolved, 10)
	for _, p := range g.Problems {
		fmt.Fprintf(w, "note: %s\n", p)
	}
}

func writeCycles(w io.Writer, cycles []graph.Cycle) {
	for _, c := range cycles {
		if c.BrokenBy != "" {
			fmt.Fprintf(w, "build cycle (broken): %s\n  broken: %s\n", c, c.BrokenBy)
		} else {
			fmt.Fprintf(w, "build cycle (NOT broken): %s\n  members: %s\n", c, strings.Join(c.Members, ", "))
		}
	}
}

// writeUnresolved lists unresolved capabilities, at most limit (0 = all).
func writeUnresolved(w io.Writer, list []graph.Unresolved, limit int) {
	if len(list) == 0 {
		return
	}
	fmt.Fprintf(w, "%d capabilities no spec declares (generated ones are found in the RPMs built first; the rest must come from the toolchain or a remote repository):\n", len(list))
	for i, u := range list {
		if limit > 0 && i == limit {
			fmt.Fprintf(w, "  ... and %d more (slipway plan lists them all)\n", len(list)-limit)
			break
		}
		fmt.Fprintf(w, "  %-40s needed by %s\n", u.Cap, strings.Join(u.NeededBy, ", "))
	}
}
