package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/proto"
)

// The admin verbs: list the relay's sessions and end one. The relay allows
// them to users with the admin role only; others get exit status 4.
func init() {
	register(&cli.Command{
		Name:  "sessions",
		Usage: "list every session on the relay: name, channel, address, since when, roles (needs the admin role)",
		Description: `Prints one line per logged-in session. Only users with the admin role may
list sessions (relay user add NAME --roles admin); others are refused with
status 4.`,
		Flags: commonFlags(),
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("sessions takes no arguments")
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			list, err := c.Sessions(cc.Context)
			if err != nil {
				return err
			}
			self := c.Welcome().Session
			tw := tabwriter.NewWriter(cc.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCHANNEL\tADDRESS\tCONNECTED SINCE\tROLES")
			for _, s := range list {
				name := s.Name
				if s.Session == self {
					name += " (you)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, dash(s.Channel), dash(s.Addr), since(s.Since), dash(s.Roles.String()))
			}
			return tw.Flush()
		},
	})
	register(&cli.Command{
		Name:      "kick",
		Usage:     "end a user's session, with an optional reason they are shown and an optional ban (needs the admin role)",
		ArgsUsage: "NAME [REASON…]",
		Description: `Disconnects the user NAME; their client is told who did it and why, and
does not reconnect on its own. With --ban the name may not log in again for
that long (also a name that is not online now); the relay forgets bans when
it restarts. Only users with the admin role may kick; others are refused
with status 4.`,
		Flags: append(commonFlags(), &cli.DurationFlag{Name: "ban",
			Usage: "keep NAME from logging in again for this long, e.g. 10m or 24h (at most a year)", DefaultText: "no ban"}),
		Action: func(cc *cli.Context) error {
			if cc.NArg() < 1 {
				return usagef("kick needs the user to disconnect (talk kick [flags] NAME [REASON…])")
			}
			name := cc.Args().First()
			reason := strings.Join(cc.Args().Tail(), " ")
			if len(reason) > proto.MaxReasonLen {
				return usagef("the reason is %d bytes long; at most %d", len(reason), proto.MaxReasonLen)
			}
			ban := cc.Duration("ban")
			if ban < 0 || ban > 366*24*time.Hour {
				return usagef("--ban must be between 1s and a year (366 days)")
			}
			if ban > 0 && ban < time.Second {
				return usagef("--ban is counted in whole seconds: give at least 1s")
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.KickFor(cc.Context, name, reason, ban); err != nil {
				return err
			}
			if ban > 0 {
				fmt.Fprintf(cc.App.ErrWriter, "disconnected %s (if online) and banned the name for %v\n", name, ban)
				return nil
			}
			fmt.Fprintf(cc.App.ErrWriter, "disconnected %s\n", name)
			return nil
		},
	})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// since formats a relay timestamp (Unix milliseconds) in local time, with
// the date only when it is not today.
func since(ms int64) string {
	if ms <= 0 {
		return "-"
	}
	t := time.UnixMilli(ms).Local()
	now := time.Now()
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}
