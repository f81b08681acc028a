package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "text",
		Usage:     "send a text message to the channel, or to one user with --to",
		ArgsUsage: "MESSAGE…",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "to", Usage: "send privately to this `USER` instead of the channel"}),
		Action: func(cc *cli.Context) error {
			msg := strings.Join(cc.Args().Slice(), " ")
			if strings.TrimSpace(msg) == "" {
				return usagef("text needs a message (talk text [flags] MESSAGE)")
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Text(cc.Context, cc.String("to"), msg); err != nil {
				return err
			}
			if to := cc.String("to"); to != "" {
				fmt.Fprintf(cc.App.ErrWriter, "sent to %s\n", to)
			} else {
				ch, _ := c.Channel()
				fmt.Fprintf(cc.App.ErrWriter, "sent to channel %s\n", ch.Name)
			}
			return nil
		},
	})
	register(&cli.Command{
		Name:      "ring",
		Usage:     "ring every station on the relay, with an optional message",
		ArgsUsage: "[MESSAGE…]",
		Flags:     commonFlags(),
		Action: func(cc *cli.Context) error {
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.Ring(cc.Context, strings.Join(cc.Args().Slice(), " ")); err != nil {
				return err
			}
			fmt.Fprintln(cc.App.ErrWriter, "rang every station")
			return nil
		},
	})
}
