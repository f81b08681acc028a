package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/box"
)

func init() { register(boxCommand()) }

func boxCommand() *cli.Command {
	return &cli.Command{
		Name:  "box",
		Usage: "run as an intercom box: no terminal, push-to-talk from a button, LEDs, reconnects forever",
		Description: `Runs unattended, e.g. under systemd on a Raspberry Pi with a speaker, a
microphone, a push-to-talk button (a USB button or foot pedal through
/dev/input, or a GPIO line) and LEDs on GPIO lines. Everything is set in the
config file (see internal/deploy/box.conf for every setting). The box keeps
trying to reach the relay forever, waits for a missing USB sound card, and
logs to standard output (the journal under systemd).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", EnvVars: []string{"HARK_BOX_CONFIG"}, Value: "/etc/hark/box.conf",
				TakesFile: true, Usage: "the box's config `FILE`"},
			&cli.BoolFlag{Name: "check", Usage: "check the setup and exit: the config file, password file, sound cards, " +
				"push-to-talk inputs, LED lines and the relay (logs in for a moment)"},
		},
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("box takes no arguments (settings go in the config file)")
			}
			cfg, err := box.LoadConfig(cc.String("config"))
			if err != nil {
				return usagef("%v", err)
			}
			if cc.Bool("check") {
				fmt.Printf("ok       %-14s %s\n", "config", cc.String("config"))
				if err := box.Check(cc.Context, cfg, os.Stdout, box.CheckDeps{}); err != nil {
					return err
				}
				return nil
			}
			return box.Run(cc.Context, cfg, box.Deps{})
		},
	}
}
