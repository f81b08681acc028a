// Package clitest checks the help text of a command-line program built with
// urfave/cli, for the tests of the commands in cmd/: what --help prints is
// read by people who never saw the code.
package clitest

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// FlagProblems returns one line for each flag of app (global, and of every
// command and subcommand) whose help line would confuse a reader: a
// placeholder that is not one upper-case word (urfave/cli takes the first
// `backquoted` text of the usage as the placeholder, so a backquoted
// command becomes "--fingerprint relay fingerprint --data DIR"), or two
// defaults (the usage's own "(default …)" and the one cli adds).
func FlagProblems(app *cli.App) []string {
	var out []string
	check := func(where string, flags []cli.Flag) {
		for _, f := range flags {
			line := fmt.Sprint(f)
			head, usage, _ := strings.Cut(line, "\t")
			for _, tok := range strings.Fields(head) {
				tok = strings.TrimSuffix(tok, ",")
				if strings.HasPrefix(tok, "-") || tok == "[" || tok == "]" || tok == "value" || tok == "" {
					continue
				}
				if strings.ToUpper(tok) != tok {
					out = append(out, fmt.Sprintf("%s: %q has the placeholder %q (a backquoted word in the usage?)", where, head, tok))
					break
				}
			}
			if n := strings.Count(usage, "(default"); n > 1 {
				out = append(out, fmt.Sprintf("%s: %s says its default %d times: %s", where, f.Names()[0], n, usage))
			}
		}
	}
	var walk func(where string, cmds []*cli.Command)
	walk = func(where string, cmds []*cli.Command) {
		for _, c := range cmds {
			w := where + " " + c.Name
			check(w, c.Flags)
			walk(w, c.Subcommands)
		}
	}
	check(app.Name, app.Flags)
	walk(app.Name, app.Commands)
	return out
}
