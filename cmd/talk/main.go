// Command talk is Hark's command-line client. This file holds the
// application and the flags every verb shares; each verb lives in a file of
// its own and registers itself with register (so new verbs, such as the
// device and terminal ones, are new files).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

var commands []*cli.Command

// register adds a verb. Call it from an init function.
func register(c *cli.Command) { commands = append(commands, c) }

func newApp() *cli.App {
	cmds := slices.Clone(commands)
	slices.SortFunc(cmds, func(a, b *cli.Command) int { return strings.Compare(a.Name, b.Name) })
	return &cli.App{
		Name:  "talk",
		Usage: "push-to-talk intercom client for a Hark relay",
		Description: `Connects to a Hark relay, logs in and joins a channel. Without a command,
talk is a terminal intercom: hold the space bar to talk (see the options
below); the commands send, record, text, ring, page and who work with files and
scripts, sessions and kick are for admins, and box runs a wall box without a
terminal. Every flag can also be set with the environment variable shown in
its help, e.g. HARK_RELAY=intercom.lan HARK_USER=alice talk send hello.wav

The relay's identity is checked by its certificate fingerprint: pass
--fingerprint (printed by "relay fingerprint"), or the first connection
records it in ~/.config/hark/known_relays and later ones must match.`,
		Commands:        cmds,
		HideHelpCommand: true,
		// Without a verb, talk is the terminal intercom.
		Flags:  tuiFlags(),
		Action: tuiAction,
		// Errors are printed by main, once.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := newApp()
	err := app.RunContext(ctx, flagsFirst(app, verbFirst(app, os.Args)))
	interrupted := ctx.Err() != nil
	stop()
	if err != nil {
		if interrupted && errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "talk: interrupted")
			os.Exit(exitInterrupted)
		}
		fmt.Fprintln(os.Stderr, "talk:", err)
		os.Exit(exitCode(err))
	}
}

// verbFirst moves flags written before the verb behind it, so that
// `talk --relay intercom --user alice send hello.wav` works like
// `talk send --relay intercom --user alice hello.wav`: every verb takes the
// common flags itself. Without a verb (the terminal UI) args are unchanged.
func verbFirst(app *cli.App, args []string) []string {
	takesValue := map[string]bool{}
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			_, isBool := f.(*cli.BoolFlag)
			for _, n := range f.Names() {
				takesValue[n] = !isBool
			}
		}
	}
	i := 1
	for i < len(args) {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		i++
		if takesValue[name] && !hasValue && i < len(args) {
			i++
		}
	}
	if i == 1 || i >= len(args) {
		return args
	}
	for _, c := range app.Commands {
		if c.HasName(args[i]) {
			out := append([]string{args[0], args[i]}, args[1:i]...)
			return append(out, args[i+1:]...)
		}
	}
	return args
}

// flagsFirst moves flags written after a verb's arguments in front of them
// (the cli package stops reading flags at the first argument), so that
// `talk send hello.wav --relay intercom` works. Everything after "--" is
// left alone.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 3 {
		return args
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.HasName(args[1]) {
			cmd = c
		}
	}
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	var flags, pos []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if takesValue[name] && !hasValue && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	out := append([]string{}, args[:2]...)
	return append(append(out, flags...), pos...)
}

// Exit codes, so scripts can tell the common failures apart.
const (
	exitError     = 1 // anything else
	exitUsage     = 2 // bad flags or arguments
	exitBusy      = 3 // someone else is talking
	exitAuth      = 4 // wrong name or password, or not allowed (no page or admin role)
	exitNoConnect = 5 // relay unreachable or its identity changed

	exitInterrupted = 130 // Ctrl-C before the work was done
)

// usageError marks errors in the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return classify(err)
}
