package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/internal/tui"
	"github.com/hark-intercom/hark/internal/vad"
)

// tuiFlags are the flags of `talk` with no verb (the terminal UI).
func tuiFlags() []cli.Flag {
	f := append(commonFlags(), audioFlags()...)
	return append(f, listenFlag(),
		&cli.StringFlag{Name: "talk-key", EnvVars: []string{"HARK_TALK_KEY"}, Value: "space",
			Usage: "key to talk: space, enter, tab, f1…f12, insert, an arrow, or one character"},
		&cli.BoolFlag{Name: "toggle", EnvVars: []string{"HARK_TOGGLE"},
			Usage: "press the talk key once to talk and again to stop, instead of holding it down (when held, the terminal's key repeat shows it is)"},
		&cli.DurationFlag{Name: "repeat-delay", EnvVars: []string{"HARK_REPEAT_DELAY"}, Value: 700 * time.Millisecond,
			Usage: "how long to wait for the first key repeat while holding the talk key: raise it if talking stops half a second into every hold"},
		&cli.BoolFlag{Name: "vad", EnvVars: []string{"HARK_VAD"},
			Usage: "hands-free: talk while your voice is heard (voice activity detection), besides the talk key"},
		&cli.DurationFlag{Name: "vad-preroll", EnvVars: []string{"HARK_VAD_PREROLL"}, Value: engine.DefaultVADPreRoll,
			Usage: "with --vad, send this much of what was said just before your voice was detected, so the first syllable is not cut off (0: none)"},
		&cli.StringFlag{Name: "ptt-evdev", EnvVars: []string{"HARK_PTT_EVDEV"},
			Usage: "also talk with a key or button of this Linux input `DEVICE` (a path or part of a name from 'talk devices'): true press and release, works on Wayland and without focus; needs the \"input\" group"},
		&cli.StringFlag{Name: "ptt-evdev-key", EnvVars: []string{"HARK_PTT_EVDEV_KEY"},
			Usage: "the key or button of --ptt-evdev, e.g. KEY_RIGHTCTRL or BTN_0 (default KEY_SPACE)"},
		&cli.StringFlag{Name: "log-file", EnvVars: []string{"HARK_LOG_FILE"}, TakesFile: true,
			Usage: "write logs to `FILE` (the screen has no room for them)"},
	)
}

// tuiAction runs the terminal UI: `talk` with no verb.
func tuiAction(cc *cli.Context) error {
	if cc.NArg() != 0 {
		return usagef("unknown command %q (see talk --help)", cc.Args().First())
	}
	ccfg, err := clientConfig(cc)
	if err != nil {
		return err
	}
	if ccfg.Monitor, err = listenChannels(cc); err != nil {
		return err
	}
	// Logs go to a file or nowhere: the screen belongs to the UI.
	var w io.Writer = io.Discard
	if f := cc.String("log-file"); f != "" {
		lf, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("opening the log file: %w", err)
		}
		defer lf.Close()
		w = lf
	}
	lvl := slog.LevelInfo
	if cc.Bool("verbose") {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
	ccfg.Logger = log
	ecfg, err := engineConfig(cc, false)
	if err != nil {
		return err
	}
	ecfg.Logger = log
	var srcs []ptt.Source
	if d := cc.String("ptt-evdev"); d != "" {
		srcs = append(srcs, &ptt.Evdev{Device: d, Key: cc.String("ptt-evdev-key"), WaitForDevice: true,
			Logger: log.With("part", "ptt-evdev")})
	}
	if cc.Bool("vad") {
		v := ptt.NewVAD(vad.Config{})
		ecfg.OnCapture = func(p []int16) { v.Feed(p) }
		ecfg.PreRoll = cc.Duration("vad-preroll")
		ecfg.PreRollIf = v.Open // not for a key pressed in silence
		srcs = append(srcs, v)
	}
	if len(srcs) > 0 {
		ecfg.PTT = ptt.Any(srcs...)
	}
	key, err := ptt.ParseKey(cc.String("talk-key"))
	if err != nil {
		return usagef("--talk-key: %v", err)
	}
	err = tui.RunSession(cc.Context, tui.SessionConfig{
		Client: ccfg,
		Engine: ecfg,
		UI: tui.Config{
			TalkKey: key,
			Hold:    ptt.HoldConfig{Toggle: cc.Bool("toggle"), InitialTimeout: cc.Duration("repeat-delay")},
			Logger:  log,
		},
		OnDialing: func(relay string) { fmt.Fprintf(os.Stderr, "connecting to %s…\n", relay) },
	})
	var de *engine.DeviceError
	if errors.As(err, &de) {
		return fmt.Errorf("%w\n%s", err, noSoundAdvice)
	}
	return err
}

// noSoundAdvice follows an error about a sound card that cannot be used.
const noSoundAdvice = `The sound card could not be used. "talk devices" lists the microphones and
speakers this machine has; --capture-device and --playback-device pick one.
On a machine without a sound card, --audio-backend null joins without sound:
you see who is online and who talks, and can send text and ring.`
