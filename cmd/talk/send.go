package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/internal/wav"
)

func init() {
	register(&cli.Command{
		Name:      "send",
		Usage:     "send a WAV file as one push-to-talk transmission, in real time",
		ArgsUsage: "FILE.wav",
		Description: `Takes the floor of the channel, sends the file at its natural pace, and
releases the floor. Any common WAV works (8-bit, 16/24/32-bit integer,
32-bit float, mono or stereo, any rate from 8 to 48 kHz): it is converted
to 48 kHz mono and encoded with Opus. If someone else is talking, talk says
who and exits with status 3; so it does when a page cuts the transmission
off (status 1 when the relay's maximum transmission length cuts it).
With --to NAME it is a call: only that user hears it (they need not be
in your channel, and no channel floor is needed); a user who is not
online is refused (status 1).`,
		Flags: append(commonFlags(), frameFlag(), fecFlag(),
			&cli.StringFlag{Name: "to", Aliases: []string{"t"}, Usage: "call this `USER` (or several: bob,carol; or everyone online with a role: role:page): only they hear the file (whisper)"}),
		Action: func(cc *cli.Context) error { return sendFile(cc, false) },
	})
	register(&cli.Command{
		Name:      "page",
		Usage:     "page every channel with a WAV file (needs the page role)",
		ArgsUsage: "FILE.wav",
		Description: `Like send, but heard in every channel at once, over anyone talking.
Only users with the page role may page; others are refused (status 4).`,
		Flags:  append(commonFlags(), frameFlag(), fecFlag()),
		Action: func(cc *cli.Context) error { return sendFile(cc, true) },
	})
}

func fecFlag() cli.Flag {
	return &cli.BoolFlag{Name: "fec", Value: true, EnvVars: []string{"HARK_FEC"},
		Usage: "Opus in-band forward error correction (repairs single lost packets); --fec=false to turn off"}
}

func sendFile(cc *cli.Context, page bool) error {
	if cc.NArg() != 1 {
		return usagef("%s needs exactly one WAV file (talk %s [flags] FILE.wav)", cc.Command.Name, cc.Command.Name)
	}
	frame, err := frameSamples(cc)
	if err != nil {
		return err
	}
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	to := ""
	if !page {
		to = cc.String("to")
		if to != "" {
			if err := accounts.CheckCallees(client.Callees(to), cfg.Name); err != nil {
				return usagef("--to: %v", err)
			}
		}
	}
	path := cc.Args().First()
	// Read and convert before taking the floor: the relay frees a floor
	// that stays silent.
	pcm, err := readMono48k(path)
	if err != nil {
		return err
	}
	ctx := cc.Context
	c, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	log := cfg.Logger

	var tx *client.Transmission
	what := ""
	switch {
	case page:
		tx, err = c.Page(ctx)
		what = "page to all channels"
	case to != "":
		tx, err = c.Whisper(ctx, to)
		what = "call to " + to
	default:
		tx, err = c.Talk(ctx)
		ch, _ := c.Channel()
		what = "transmission in " + ch.Name
	}
	if err != nil {
		return explainBusy(err)
	}
	dur := time.Duration(len(pcm)) * time.Second / 48000
	if max := tx.MaxDuration(); max > 0 && dur > max {
		fmt.Fprintf(cc.App.ErrWriter, "talk: %s lasts %v but the relay cuts transmissions after %v\n", path, dur.Round(time.Millisecond), max)
	}
	n, sendErr := voicefile.Send(ctx, tx, pcm, voicefile.SendConfig{
		FrameSamples: frame, FEC: cc.Bool("fec"),
		OnStart: func(t0 time.Time) {
			log.Info("sending", "file", path, "seconds", dur.Seconds(), "frame_ms", frame/48,
				"sample0_unix_ns", t0.UnixNano())
		},
	})
	endCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	endErr := tx.End(endCtx)
	cancel()
	// A page or the relay's maximum length cut the transmission: the rest
	// of the file was not heard. Send says so, or End when the cut came
	// after the last frame.
	var cut *client.CutError
	if errors.As(sendErr, &cut) || errors.As(endErr, &cut) {
		return cut
	}
	if sendErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d frames; the %s was ended", n, what)
		}
		return fmt.Errorf("the %s stopped after %d frames: %w", what, n, sendErr)
	}
	if endErr != nil {
		return fmt.Errorf("ending the %s: %w", what, endErr)
	}
	fmt.Fprintf(cc.App.ErrWriter, "sent %s (%v) as a %s\n", path, dur.Round(10*time.Millisecond), what)
	return nil
}

// readMono48k reads a WAV file as 48 kHz mono samples, with errors that
// name the file; a file without audio is an error.
func readMono48k(path string) ([]int16, error) {
	a, err := wav.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		return nil, fmt.Errorf("cannot convert %s to 48 kHz mono: %w", path, err)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("%s holds no audio", path)
	}
	return pcm, nil
}
