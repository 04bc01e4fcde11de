package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"slipway/internal/report"
	"slipway/internal/workspace"
)

// newRun starts the record of a command's run for build/report.html.
func (a *app) newRun(t *workspace.Tree, command string) *report.Run {
	return &report.Run{Project: t.Project.Config.Project.Name, Command: command, Start: time.Now()}
}

// writeReport writes run as build/report.html and says where; a report
// that cannot be written is a warning, not a failed run.
func (a *app) writeReport(t *workspace.Tree, run *report.Run) {
	run.Duration = time.Since(run.Start)
	path := filepath.Join(t.Project.Path(t.Project.Config.Project.BuildDir), "report.html")
	if err := report.Write(path, *run); err != nil {
		fmt.Fprintf(a.stderr, "warning: writing the report: %v\n", err)
		return
	}
	fmt.Fprintf(a.stdout, "report: %s\n", a.relPath(path))
}
