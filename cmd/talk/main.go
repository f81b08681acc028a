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
		Description: `Connects to a Hark relay, logs in and joins a channel. Every flag can
also be set with the environment variable shown in its help, e.g.
HARK_RELAY=intercom.lan HARK_USER=alice talk send hello.wav

The relay's identity is checked by its certificate fingerprint: pass
--fingerprint (printed by "relay fingerprint"), or the first connection
records it in ~/.config/hark/known_relays and later ones must match.`,
		Commands:        cmds,
		HideHelpCommand: true,
		// Errors are printed by main, once.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp().RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "talk:", err)
		os.Exit(exitCode(err))
	}
}

// Exit codes, so scripts can tell the common failures apart.
const (
	exitError     = 1 // anything else
	exitUsage     = 2 // bad flags or arguments
	exitBusy      = 3 // someone else is talking
	exitAuth      = 4 // wrong name or password, or not allowed
	exitNoConnect = 5 // relay unreachable or its identity changed
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
