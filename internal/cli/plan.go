package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"slipway/internal/build"
	"slipway/internal/graph"
	"slipway/internal/spec"
)

// planDoc is `slipway plan --json`.
type planDoc struct {
	Format     string             `json:"format"`
	Order      graph.Order        `json:"order"`
	Prebuilt   []string           `json:"prebuilt"`
	Cycles     []graph.Cycle      `json:"cycles"`
	Unresolved []graph.Unresolved `json:"unresolved"`
	Choices    []graph.Choice     `json:"choices"`
	Failed     []*spec.EvalError  `json:"failed"`
	Stats      spec.Stats         `json:"evaluation"`
	// Decisions are what slipway build would do with each spec now
	// (absent until a toolchain exists).
	Decisions []build.Result `json:"decisions,omitempty"`
	// NoDecisions says why Decisions is absent.
	NoDecisions string `json:"noDecisions,omitempty"`
}

func (a *app) planCommand() *cobra.Command {
	var (
		goals   []string
		asJSON  bool
		choices bool
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show the builds in a valid order, with cycles and unresolved capabilities",
		Long: `Show what the package stage would build, in a valid order: waves of builds
that need only earlier waves, the critical path, the build cycles (and how
bootstrap twins or pre-built packages break them), and the capabilities no
spec provides. Builds nothing and changes nothing but the evaluation cache.

Exit status: 0 when every spec evaluated and every build can be ordered,
1 when a spec failed to evaluate or a build cycle cannot be broken.`,
		Example: `  slipway plan
  slipway plan --goal tinyc --choices
  slipway plan --json > plan.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.loadTree(cmd.Context())
			if err != nil {
				return err
			}
			g, err := a.pruned(t, goals)
			if err != nil {
				return err
			}
			order := g.BuildOrder()
			var prebuilt []string
			for _, n := range g.Nodes {
				if n.Kind == graph.BuildNode && n.Prebuilt {
					prebuilt = append(prebuilt, n.Name)
				}
			}
			// What a build would do now: reuse, build (and why), or blocked.
			var decisions []build.Result
			noDecisions := ""
			if len(t.Eval.Errors) == 0 {
				var nodes []int
				if len(goals) > 0 {
					nodes, _, _ = t.Goals(goals)
				}
				sum, err := build.RunProject(cmd.Context(), t.Project, t, build.ProjectOptions{Goals: nodes, DryRun: true, Logger: a.log})
				if err != nil {
					noDecisions = err.Error()
				} else {
					decisions = sum.Results
				}
			}
			if asJSON {
				doc := planDoc{Format: "slipway-plan/v1", Order: order, Prebuilt: nonNil(prebuilt),
					Cycles: nonNil(g.Cycles), Unresolved: nonNil(g.Unresolved), Choices: nonNil(g.Choices),
					Failed: nonNil(t.Eval.Errors), Stats: t.Eval.Stats, Decisions: decisions, NoDecisions: noDecisions}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					return err
				}
			} else {
				writePlan(a.stdout, g, order, prebuilt, choices)
				writeDecisions(a.stdout, decisions, noDecisions)
			}
			if err := evalProblems(t); err != nil {
				return err
			}
			if len(order.Blocked) > 0 {
				return problemsError{fmt.Sprintf("%d build(s) wait on a build cycle that cannot be broken", len(order.Blocked))}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&goals, "goal", "g", nil, "plan only what these need (spec, package or image config; repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as JSON")
	cmd.Flags().BoolVar(&choices, "choices", false, "also explain every choice between several providers")
	return cmd
}

func writeDecisions(w io.Writer, decisions []build.Result, none string) {
	if none != "" {
		fmt.Fprintf(w, "Build decisions: not known yet: %s\n", none)
		return
	}
	fmt.Fprintln(w, "Build decisions (what slipway build would do now):")
	for _, r := range decisions {
		if r.Decision != build.Toolchain {
			fmt.Fprintf(w, "  %-30s %-8s %s\n", r.Spec, r.Decision, r.Reason)
		}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writePlan(w io.Writer, g *graph.Graph, o graph.Order, prebuilt []string, choices bool) {
	n := 0
	for _, wave := range o.Waves {
		n += len(wave)
	}
	fmt.Fprintf(w, "Build order: %d builds in %d waves (a wave needs only earlier waves)\n", n, len(o.Waves))
	step := 0
	for i, wave := range o.Waves {
		for _, b := range wave {
			step++
			node, _ := g.Node(graph.BuildID(b))
			fmt.Fprintf(w, "  %4d. wave %-3d %s-%s\n", step, i+1, b, node.EVR)
		}
	}
	fmt.Fprintf(w, "Critical path: %d build steps: %s\n", len(o.CriticalPath), strings.Join(o.CriticalPath, " -> "))
	if len(prebuilt) > 0 {
		fmt.Fprintf(w, "Pre-built, not built here: %s\n", strings.Join(prebuilt, " "))
	}
	if len(o.Blocked) > 0 {
		fmt.Fprintf(w, "Blocked by a build cycle: %s\n", strings.Join(o.Blocked, " "))
	}
	writeCycles(w, g.Cycles)
	writeUnresolved(w, g.Unresolved, 0)
	if choices {
		for _, c := range g.Choices {
			fmt.Fprintf(w, "choice: %s needs %s: %s among %s\n", c.Node, c.Cap, c.Reason, strings.Join(c.Candidates, ", "))
		}
	} else if len(g.Choices) > 0 {
		fmt.Fprintf(w, "%d capabilities had several providers (--choices explains each)\n", len(g.Choices))
	}
	for _, p := range g.Problems {
		fmt.Fprintf(w, "note: %s\n", p)
	}
}
