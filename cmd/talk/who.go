package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "who",
		Usage: "list who is online, in which channel, and who is talking",
		Flags: commonFlags(),
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("who takes no arguments")
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			users, err := c.Who(cc.Context)
			if err != nil {
				return err
			}
			self := c.Welcome().Session
			tw := tabwriter.NewWriter(cc.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CHANNEL\tUSER\tSTATE")
			for _, u := range users {
				ch := u.Channel
				if ch == "" {
					ch = "-"
				}
				state := ""
				if u.Talking {
					state = "talking"
				}
				name := u.Name
				if u.Session == self {
					name += " (you)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", ch, name, state)
			}
			return tw.Flush()
		},
	})
}
