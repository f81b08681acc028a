package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:      "echo",
		Usage:     "echo test: send a WAV file to the relay and record what it plays back to you",
		ArgsUsage: "FILE.wav",
		Description: fmt.Sprintf(`Sends the file (at most %v) to the relay as an echo test instead of to
the channel: nobody else hears it and no floor is needed. The relay plays
it back to you alone, and talk writes what came back to --out, so you
can hear how you sound through the relay and the network. To test your
microphone and speakers instead, press e in the terminal UI (talk without
a command).`, proto.MaxEchoDuration),
		Flags: append(commonFlags(), frameFlag(), fecFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, TakesFile: true, Usage: "WAV `FILE` for what the relay played back (made once connected), or - for standard output"}),
		Action: echoFile,
	})
}

func echoFile(cc *cli.Context) error {
	if cc.NArg() != 1 {
		return usagef("echo needs exactly one WAV file (talk echo [flags] --out back.wav FILE.wav)")
	}
	frame, err := frameSamples(cc)
	if err != nil {
		return err
	}
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	path := cc.Args().First()
	pcm, err := readMono48k(path)
	if err != nil {
		return err
	}
	if max := int(proto.MaxEchoDuration.Seconds()) * 48000; len(pcm) > max {
		fmt.Fprintf(cc.App.ErrWriter, "talk: the relay plays back at most %v: the rest of %s is left out\n", proto.MaxEchoDuration, path)
		pcm = pcm[:max]
	}
	out, err := checkOut(cc.String("out"), cc.App.Writer)
	if err != nil {
		return err
	}
	ctx := cc.Context
	// The playback starts after the whole file was sent: the recorder
	// starts with its first frame and stops once the end frame is played
	// (played, below).
	first := make(chan struct{})
	last := make(chan struct{})
	var firstOnce, lastOnce sync.Once
	var recp atomic.Pointer[voicefile.Recorder]
	cfg.OnVoice = func(h proto.VoiceHeader, opus []byte, arrival time.Time) {
		if h.Flags&proto.FlagEcho == 0 {
			return // the channel's voice is not part of the echo
		}
		if r := recp.Load(); r != nil {
			r.OnVoice(h, opus, arrival)
		}
		firstOnce.Do(func() { close(first) })
		if h.Flags&proto.FlagEnd != 0 {
			lastOnce.Do(func() { close(last) })
		}
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	w, closeOut, err := out.open()
	if err != nil {
		return err
	}
	defer closeOut()
	// played is closed when the recorder has played the whole echo: the
	// set of talkers it hears falls silent after the end frame came.
	played := make(chan struct{})
	var playedOnce sync.Once
	rec := voicefile.NewRecorder(w, voicefile.RecordConfig{FrameSamples: frame, Logger: cfg.Logger,
		OnActive: func(talkers []uint32) {
			if len(talkers) > 0 {
				return
			}
			select {
			case <-last:
				playedOnce.Do(func() { close(played) })
			default:
			}
		}})
	recp.Store(rec)

	tx, err := c.Echo(ctx)
	if err != nil {
		return err
	}
	dur := time.Duration(len(pcm)) * time.Second / 48000
	fmt.Fprintf(cc.App.ErrWriter, "sending %s (%v) as an echo test…\n", path, dur.Round(10*time.Millisecond))
	_, sendErr := voicefile.Send(ctx, tx, pcm, voicefile.SendConfig{FrameSamples: frame, FEC: cc.Bool("fec")})
	endCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	endErr := tx.End(endCtx)
	cancel()
	if err := errors.Join(sendErr, endErr); err != nil {
		return fmt.Errorf("the echo test stopped: %w", err)
	}
	// Wait for the playback to begin (bounded: a relay that lost the end
	// frame never plays back), then record until the end frame is played
	// out.
	select {
	case <-first:
	case <-time.After(5 * time.Second):
		return errors.New("the relay did not play the echo back within 5 s: the end of the test was probably lost on the way; try again")
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Done():
		return fmt.Errorf("the connection ended: %w", c.Err())
	}
	// The recording ends when the recorder has played the end frame out of
	// its jitter buffer. It is bounded on the recording's own clock (the
	// echo's length and 2 s more), not by a wall-clock timer: a process
	// that stalls on a busy machine makes up its missed ticks and still
	// records the whole echo.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-played:
		case <-runCtx.Done():
		}
		stop()
	}()
	samples, runErr := rec.Run(runCtx, dur+2*time.Second)
	closeErr := w.Close()
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("finishing the recording: %w", closeErr)
	}
	fmt.Fprintf(cc.App.ErrWriter, "recorded %v of the echo to %s\n", (time.Duration(samples) * time.Second / 48000).Round(10*time.Millisecond), out.name)
	return nil
}
