package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/client"
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
		Usage:     "ring every station on the relay, with an optional message; --alarm rings until each station acknowledges",
		ArgsUsage: "[MESSAGE…]",
		Flags: append(commonFlags(),
			&cli.BoolFlag{Name: "alarm", Usage: "raise an alarm: every station rings with a repeating tone until someone there acknowledges it; talk prints each acknowledgement and ends when every station has (Ctrl-C calls the alarm off)"},
			&cli.DurationFlag{Name: "wait", Value: 5 * time.Minute, Usage: "with --alarm: stop waiting for acknowledgements after this long (the alarm keeps ringing where nobody acknowledged)"}),
		Action: func(cc *cli.Context) error {
			text := strings.Join(cc.Args().Slice(), " ")
			if !cc.Bool("alarm") {
				c, err := connect(cc)
				if err != nil {
					return err
				}
				defer c.Close()
				if err := c.Ring(cc.Context, text); err != nil {
					return err
				}
				fmt.Fprintln(cc.App.ErrWriter, "rang every station")
				return nil
			}
			return raiseAlarm(cc, text)
		},
	})
}

// raiseAlarm sends an alarm and prints the acknowledgements until every
// station has acknowledged, --wait passed, or Ctrl-C (which calls it off).
func raiseAlarm(cc *cli.Context, text string) error {
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	events := make(chan proto.Message, 256)
	cfg.OnEvent = func(e client.Event) {
		switch e.Msg.(type) {
		case *proto.Ring, *proto.AlarmAck:
			select {
			case events <- e.Msg:
			default: // a flood of acknowledgements: the last ones still tell the end
			}
		}
	}
	c, err := dial(cc.Context, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Alarm(cc.Context, text); err != nil {
		return err
	}
	self := c.Welcome().Session
	var id uint32
	wait := time.NewTimer(cc.Duration("wait"))
	defer wait.Stop()
	w := cc.App.ErrWriter
	for {
		select {
		case m := <-events:
			switch m := m.(type) {
			case *proto.Ring:
				if id == 0 && m.From == self && m.Flags&proto.RingAlarm != 0 {
					id = m.Alarm
					fmt.Fprintln(w, "alarm raised: every station rings until someone there acknowledges it (Ctrl-C calls it off)")
				}
			case *proto.AlarmAck:
				if m.Alarm != id || id == 0 {
					continue
				}
				fmt.Fprintln(w, client.AlarmAckText(m, self))
				if m.Over {
					return nil
				}
			}
		case <-wait.C:
			return fmt.Errorf("stopped waiting after %v: the alarm still rings where nobody acknowledged it", cc.Duration("wait"))
		case <-cc.Context.Done():
			if id != 0 {
				_ = c.AckAlarm(id) // the sender's acknowledgement calls it off
				fmt.Fprintln(w, "calling the alarm off")
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, _ = c.Ping(ctx) // let the relay read it before the connection closes
				cancel()
			}
			return cc.Context.Err()
		case <-c.Done():
			return fmt.Errorf("the connection to the relay ended: %w", c.Err())
		}
	}
}
