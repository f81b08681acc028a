package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:      "text",
		Usage:     "send a text message to the channel, or to one user with --to",
		ArgsUsage: "MESSAGE…",
		Description: `Sends MESSAGE to everyone in the channel, or privately with --to. A
relay that keeps history stores the text: people who are away see it when
they next connect, and a private text to someone who is offline waits on
the relay ("waiting") and is delivered when they next log in. talk says
which happened. (An older relay refuses texts to people who are offline.)`,
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
			ack, err := c.SendText(cc.Context, cc.String("to"), msg)
			if err != nil {
				return err
			}
			to := cc.String("to")
			switch {
			case to == "":
				ch, _ := c.Channel()
				fmt.Fprintf(cc.App.ErrWriter, "sent to channel %s\n", ch.Name)
			case ack.Status == proto.TextWaiting:
				fmt.Fprintf(cc.App.ErrWriter, "waiting: %s is offline; the relay keeps the text and delivers it when they next log in\n", to)
			default:
				fmt.Fprintf(cc.App.ErrWriter, "delivered to %s\n", to)
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
