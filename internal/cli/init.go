package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"slipway/internal/scaffold"
)

func (a *app) initCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Make a new project that builds as it is",
		Long: `Make a new slipway project in DIR (default: the current directory, or
--project), from the bundled example distribution "tiny":

  slipway.toml     the project file, every section explained in comments:
                   read them first to make the distribution yours
  SPECS/           the toolchain's specs, as the example's build order names
                   them, and the spec of the distribution's rpm macros
  SPECS/hello/     a package of your own: a C program, its spec and its
                   signatures.json; copy it to add packages
  toolchain/       the build order, the manifest (every RPM the toolchain
                   makes) and the Debian bootstrap root it is built in
  imageconfigs/    <name>-container.json and packagelists/<name>.json: a
                   container image (tar.gz) of filesystem, bash, coreutils
                   and hello
  .gitignore       build/ and out/

The project builds as it is, with slipway build-all (as root, with the
network to deb.debian.org for the bootstrap root): the toolchain, then
hello and the macro package, then the image.

DIR may exist: init refuses one that has a slipway.toml, a non-empty SPECS/
or any file it would write, and then changes nothing. The files are
written into a temporary directory first and moved into place at the end,
so a failure leaves none of them behind.

The project's name (--name, default DIR's name) is made of
` + scaffold.NameRule + `.

Exit status: 0 done, 2 a bad name or files in the way, 3 the files could
not be written.`,
		Example: `  slipway init mydistro                 # a new directory mydistro/, project "mydistro"
  slipway init . --name acme            # the current directory
  slipway init ~/src/acme-linux --name acme`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := a.projectDir
			switch {
			case len(args) == 1 && dir != "":
				return usageError{errors.New("give the directory once: as DIR or with --project")}
			case len(args) == 1:
				dir = args[0]
			case dir == "":
				dir = "."
			}
			res, err := scaffold.Init(dir, scaffold.Options{Name: name})
			switch {
			case errors.Is(err, scaffold.ErrBadName) && name == "":
				return usageError{fmt.Errorf("%w; choose one with --name", err)}
			case errors.Is(err, scaffold.ErrBadName), errors.Is(err, scaffold.ErrExists):
				return usageError{err}
			case err != nil:
				return err
			}
			a.printInit(filepath.Clean(dir), res)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the project's name (default: the directory's name)")
	return cmd
}

// printInit says what init made and what to run next.
func (a *app) printInit(dir string, res *scaffold.Result) {
	fmt.Fprintf(a.stdout, "Made the slipway project %q in %s (%d files):\n", res.Name, a.relPath(res.Dir), len(res.Files))
	rows := [][2]string{
		{"slipway.toml", "the project file: its comments say what to change"},
		{"SPECS/", fmt.Sprintf("%d specs of the example \"tiny\": the toolchain's and its rpm macros", len(res.Specs))},
		{"SPECS/hello/", "your first package: hello.c, hello.spec, hello.signatures.json"},
		{"toolchain/", "the build order, the manifest and the bootstrap root (README.md)"},
		{filepath.ToSlash(res.ImageConfig), "a container image (tar.gz) with hello"},
		{".gitignore", "build/ and out/"},
	}
	for _, r := range rows {
		fmt.Fprintf(a.stdout, "  %-40s %s\n", r[0], r[1])
	}
	slipway := "slipway"
	if dir != "." {
		slipway += " -C " + shellQuote(dir)
	}
	config := strings.TrimSuffix(filepath.Base(res.ImageConfig), ".json")
	fmt.Fprintf(a.stdout, `Next (as root; the toolchain takes a few minutes the first time):
  %[1]s build-all
or stage by stage:
  %[1]s toolchain && %[1]s build && %[1]s image
The image is then %[2]s.
`, slipway, a.relPath(filepath.Join(res.Dir, "out", "images", config, res.Name+".tar.gz")))
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+=:,@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
