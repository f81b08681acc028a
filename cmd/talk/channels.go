package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:  "channels",
		Usage: "list the relay's channels and what you may do in each (talk, listen only, closed to you)",
		Description: `Prints each channel's mode (ptt: one talker at a time; open: several),
what it keeps (history), the longest transmission, and what the
channel's rules let you do: "talk" (talk and listen), "listen only", or
"closed" (you may not join it). An admin changes the rules with
"talk set-channel CHANNEL talk=… listen=… max-talk=…".`,
		Flags: commonFlags(),
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("channels takes no arguments")
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			w := c.Welcome()
			tw := tabwriter.NewWriter(cc.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CHANNEL\tMODE\tHISTORY\tMAX TALK\tYOU MAY")
			for _, ch := range w.Channels {
				name := ch.Name
				if name == w.DefaultChannel {
					name += " (default)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, ch.Mode, ch.History, maxTalkText(ch.MaxMillis), accessText(ch.Access))
			}
			return tw.Flush()
		},
	})
}

func maxTalkText(ms uint32) string {
	if ms == 0 {
		return "no limit"
	}
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// accessText says what a channel's rules let this user do there.
func accessText(a proto.ChannelAccess) string {
	switch {
	case a&proto.AccessNoListen != 0:
		return "closed"
	case a&proto.AccessNoTalk != 0:
		return "listen only"
	}
	return "talk"
}
