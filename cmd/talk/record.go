package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/jitter"
	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:  "record",
		Usage: "record what the channel hears into a WAV file",
		Description: `Joins the channel and writes everything heard in it (several talkers are
mixed, pages included) to a 48 kHz mono 16-bit WAV file in real time:
silence is kept, so the file's length is the time spent recording. Stops
after --duration or at Ctrl-C; the file is valid either way. Texts, rings
and who is talking are printed as they happen. Reconnects if the relay
goes away.`,
		Flags: append(commonFlags(), frameFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, TakesFile: true, Usage: "WAV `FILE` to write"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after this long, e.g. 30s (default: until Ctrl-C)"},
			&cli.DurationFlag{Name: "buffer", EnvVars: []string{"HARK_RECORD_BUFFER"},
				Usage: "hold voice at least this long before writing it, e.g. 200ms: a recording needs no low delay, and a generous buffer rides out network and machine hiccups without gaps (default: adaptive, as low as the network allows)"},
		),
		Action: record,
	})
}

func record(cc *cli.Context) error {
	if cc.NArg() != 0 {
		return usagef("record takes no arguments (did you mean --out %s?)", cc.Args().First())
	}
	frame, err := frameSamples(cc)
	if err != nil {
		return err
	}
	cfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	if cc.Duration("duration") < 0 {
		return usagef("--duration must be positive")
	}
	var jopts []jitter.Option
	if b := cc.Duration("buffer"); b < 0 || b > 2*time.Second {
		return usagef("--buffer must be between 0 and 2s")
	} else if b > 0 {
		jopts = append(jopts, jitter.WithMinDelay(b), jitter.WithInitialDelay(b), jitter.WithMaxDelay(max(time.Second, 2*b)))
	}
	out := cc.String("out")
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("cannot create the recording: %w", err)
	}
	defer f.Close()
	w, err := wav.NewWriter(f, 48000, 1)
	if err != nil {
		return err
	}
	log := cfg.Logger

	// Talker names for the "hearing" lines, from the events.
	var mu sync.Mutex // guards names
	names := map[uint32]string{}
	printer := eventPrinter(cc.App.ErrWriter, cfg.Name)
	cfg.OnEvent = func(e client.Event) {
		mu.Lock()
		switch m := e.Msg.(type) {
		case *proto.Presence:
			for _, u := range m.Users {
				names[u.Session] = u.Name
			}
		case *proto.PresenceChange:
			names[m.User.Session] = m.User.Name
		case *proto.Talking:
			names[m.Session] = m.Name
		}
		mu.Unlock()
		printer(e)
	}
	rec := voicefile.NewRecorder(w, voicefile.RecordConfig{
		FrameSamples:  frame,
		JitterOptions: jopts,
		Logger:        log,
		OnStart: func(t0 time.Time) {
			log.Info("recording", "file", out, "frame_ms", frame/48, "sample0_unix_ns", t0.UnixNano())
		},
		OnActive: func(ids []uint32) {
			if len(ids) == 0 {
				log.Debug("silence")
				return
			}
			mu.Lock()
			who := make([]string, len(ids))
			for i, id := range ids {
				who[i] = names[id]
				if who[i] == "" {
					who[i] = fmt.Sprintf("session %d", id)
				}
			}
			mu.Unlock()
			log.Info("hearing", "talkers", strings.Join(who, ", "))
		},
	})
	cfg.OnVoice = rec.OnVoice
	cfg.Reconnect = true
	dialCtx, cancel := context.WithTimeout(cc.Context, 15*time.Second)
	c, err := dial(dialCtx, cfg)
	cancel()
	if err != nil {
		w.Close()
		os.Remove(out)
		return err
	}
	defer c.Close()
	ch, _ := c.Channel()
	stop := "Ctrl-C to stop"
	if d := cc.Duration("duration"); d > 0 {
		stop = fmt.Sprintf("for %v", d)
	}
	fmt.Fprintf(cc.App.ErrWriter, "recording channel %s of %s to %s (%s)\n", ch.Name, c.Relay(), out, stop)

	// Stop when the relay ends the session for good (kicked, replaced by a
	// login elsewhere): there is nothing more to hear.
	runCtx, stopRun := context.WithCancel(cc.Context)
	go func() {
		select {
		case <-c.Done():
			stopRun()
		case <-runCtx.Done():
		}
	}()
	samples, runErr := rec.Run(runCtx, cc.Duration("duration"))
	stopRun()
	closeErr := w.Close()
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("finishing the recording: %w", closeErr)
	}
	recorded := (time.Duration(samples) * time.Second / 48000).Round(10 * time.Millisecond)
	if err := c.Err(); err != nil && cc.Context.Err() == nil {
		return fmt.Errorf("recording stopped after %v (saved to %s): %w", recorded, out, err)
	}
	st := rec.Stats()
	log.Debug("playout stats", "stats", fmt.Sprintf("%+v", st))
	fmt.Fprintf(cc.App.ErrWriter, "recorded %v to %s\n", recorded, out)
	return nil
}
