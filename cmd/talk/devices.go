package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/ptt"
)

func init() { register(devicesCommand()) }

// backendFlag is the --audio-backend flag of the verbs that use sound cards.
func backendFlag() cli.Flag {
	return &cli.StringFlag{Name: "audio-backend", EnvVars: []string{"HARK_AUDIO_BACKEND"}, Value: "auto",
		Usage: "sound system: " + strings.Join(audio.BackendNames, ", ") + " (null: no sound card)"}
}

// audioFlags are the sound card and sound flags of the live verbs.
func audioFlags() []cli.Flag {
	return []cli.Flag{
		backendFlag(),
		&cli.StringFlag{Name: "capture-device", EnvVars: []string{"HARK_CAPTURE_DEVICE"},
			Usage: "microphone: an id or part of a name from 'talk devices' (default: the system's)"},
		&cli.StringFlag{Name: "playback-device", EnvVars: []string{"HARK_PLAYBACK_DEVICE"},
			Usage: "speaker or headphones: an id or part of a name from 'talk devices' (default: the system's)"},
		frameFlag(),
		&cli.StringFlag{Name: "mute", EnvVars: []string{"HARK_MUTE"},
			Usage: "local sounds not to play, comma-separated: " + engine.CueNames() + ", or all"},
		&cli.BoolFlag{Name: "save-cpu", EnvVars: []string{"HARK_SAVE_CPU"},
			Usage: "fill the speaker a whole frame at a time: about 0.5% less of a CPU core, up to 10 ms more delay with 20 ms frames (for small boards)"},
	}
}

// engineConfig builds the engine's configuration from audioFlags.
func engineConfig(cc *cli.Context, wait bool) (engine.Config, error) {
	frame, err := frameSamples(cc)
	if err != nil {
		return engine.Config{}, err
	}
	mute, err := engine.ParseCues(cc.String("mute"))
	if err != nil {
		return engine.Config{}, usagef("--mute: %v", err)
	}
	capt, play, err := engine.OpenDevices(engine.DeviceOptions{
		Backend: cc.String("audio-backend"), Capture: cc.String("capture-device"),
		Playback: cc.String("playback-device"), WaitForDevice: wait,
	})
	if err != nil {
		return engine.Config{}, usagef("%v", err)
	}
	return engine.Config{FrameSamples: frame, Capture: capt, Playback: play, Mute: mute,
		LowLatency: !cc.Bool("save-cpu")}, nil
}

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list sound cards (microphones and speakers) and push-to-talk input devices",
		Description: `Lists the capture and playback devices of the sound system, with the id
and name to give to --capture-device and --playback-device (an exact id, or
any unambiguous part of a name), and the Linux input devices (keyboards,
USB foot pedals, PTT buttons) usable for push-to-talk in box mode. Reading
input devices needs root or membership in the "input" group.`,
		Flags: []cli.Flag{backendFlag()},
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("devices takes no arguments")
			}
			devs, err := audio.List(cc.Context, cc.String("audio-backend"))
			if err != nil {
				return fmt.Errorf("listing sound cards: %w", err)
			}
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tDEFAULT\tID\tNAME")
			for _, d := range devs {
				def := ""
				if d.Default {
					def = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Kind, def, d.ID, d.Name)
			}
			if len(devs) == 0 {
				fmt.Fprintln(tw, "(no sound cards found)")
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			inputs, err := ptt.ListInputDevices()
			fmt.Println()
			switch {
			case err != nil:
				fmt.Printf("push-to-talk input devices: cannot list them: %v\n", err)
			case len(inputs) == 0:
				fmt.Println("push-to-talk input devices: none readable (need root or the \"input\" group?)")
			default:
				tw = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "INPUT DEVICE\tNAME")
				for _, d := range inputs {
					fmt.Fprintf(tw, "%s\t%s\n", d.Path, d.Name)
				}
				return tw.Flush()
			}
			return nil
		},
	}
}
