package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:      "set-channel",
		Usage:     "change a channel's settings on the relay, e.g. whether it keeps voice (needs the admin role)",
		ArgsUsage: "CHANNEL KEY=VALUE…",
		Description: `Changes the settings of CHANNEL while the relay runs (the same as
"relay channel set" on the relay's machine) and prints all its settings
afterwards. Settings left out keep their value. For example:

   talk set-channel lobby history=voice max-age=24h
   talk set-channel ops history=text max-count=500

history=off keeps nothing, text keeps texts, rings and pages, voice also
keeps every transmission (the channel then shows as recorded: people must
know). The limits (max-length, max-tx-bytes, max-count, max-age,
max-bytes; "relay channel set --help" explains each) remove the oldest
first.

Who may do what, per channel (changed at once for the people in it):

   talk set-channel news talk=role:admin,alice   only admins and alice talk
   talk set-channel security listen=role:admin,bob,carol   others may not join
   talk set-channel dock max-talk=30s   transmissions there are cut at 30 s

talk= and listen= take "everyone" or user names and roles (role:page,
role:admin) separated by commas; max-talk= a duration or "default" (the
relay's --max-talk). "talk channels" shows what you may do in each channel.
Only users with the admin role may change settings; others are refused
with status 4.`,
		Flags: commonFlags(),
		Action: func(cc *cli.Context) error {
			if cc.NArg() < 2 {
				return usagef("set-channel needs a channel and at least one setting (talk set-channel lobby history=voice)")
			}
			channel := cc.Args().First()
			settings := strings.Join(cc.Args().Tail(), " ")
			for _, w := range cc.Args().Tail() {
				if !strings.Contains(w, "=") {
					return usagef("%q is not KEY=VALUE, e.g. history=voice or max-age=24h", w)
				}
			}
			if len(settings) > proto.MaxSettingsLen {
				return usagef("the settings are %d bytes long; at most %d", len(settings), proto.MaxSettingsLen)
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			now, err := c.ChannelSet(cc.Context, channel, settings)
			if err != nil {
				return err
			}
			fmt.Fprintf(cc.App.Writer, "%s: %s\n", channel, now)
			return nil
		},
	})
}
