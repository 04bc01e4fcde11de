package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"slipway/internal/source"
	"slipway/internal/spec"
)

func (a *app) sourcesCommand() *cobra.Command {
	var update bool
	cmd := &cobra.Command{
		Use:   "sources [SPEC...]",
		Short: "Fetch and verify the sources of specs (all, or those named)",
		Long: `Find every Source of the specs: beside the spec, in the shared source cache,
or downloaded from [sources] urls (and the spec's own URL when
allow_upstream is set), each checked against <spec>.signatures.json
(SHA-256). Prints where each source came from.

--update-signatures is for packagers moving a spec to a new version: it
fetches the spec's current Sources without checking them and rewrites its
signatures.json with their hashes.`,
		Example: `  slipway sources
  slipway sources libtiny --update-signatures`,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.loadTree(cmd.Context())
			if err != nil {
				return err
			}
			p := t.Project
			var specs []*spec.Info
			for _, info := range t.Eval.Specs {
				if len(args) == 0 || slices.Contains(args, info.Name) {
					specs = append(specs, info)
				}
			}
			if len(specs) < len(args) {
				return usageError{fmt.Errorf("no spec named %v in %s", args, p.Config.Project.SpecsDir)}
			}
			opts := source.ProjectOptions(p, a.log)
			var errs []error
			for _, info := range specs {
				dir := filepath.Join(p.Path(p.Config.Project.SpecsDir), filepath.Dir(info.Path))
				var files []source.File
				if update {
					files, err = source.UpdateSignatures(cmd.Context(), info, dir, opts)
				} else {
					files, err = source.Resolve(cmd.Context(), info, dir, opts)
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, f := range files {
					from := string(f.Origin)
					if f.URL != "" {
						from += " " + f.URL
					}
					fmt.Fprintf(a.stdout, "%s\t%s\t%s\t%s\n", info.Name, f.Name, f.SHA256[:16], from)
				}
			}
			if len(errs) > 0 {
				return problemsError{errors.Join(errs...).Error()}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&update, "update-signatures", false, "rewrite signatures.json from the sources as they are now")
	return cmd
}
