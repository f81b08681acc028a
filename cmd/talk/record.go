package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/internal/history"
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
goes away. With --listen ops,dock it also records what is said in those
channels (mixed in), and calls made to this user.`,
		Flags: append(commonFlags(), frameFlag(), listenFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, TakesFile: true, Usage: "WAV `FILE` to write (made once connected; an existing file is overwritten then), a named pipe, or - for standard output"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Usage: "stop after this long, e.g. 30s", DefaultText: "until Ctrl-C"},
			&cli.DurationFlag{Name: "buffer", EnvVars: []string{"HARK_RECORD_BUFFER"},
				Usage: "hold voice at least this long before writing it, e.g. 200ms: a recording needs no low delay, and a generous buffer rides out network and machine hiccups without gaps", DefaultText: "adaptive, as low as the network allows"},
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
	listen, err := listenChannels(cc)
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
	out, err := checkOut(cc.String("out"), cc.App.Writer)
	if err != nil {
		return err
	}
	log := cfg.Logger

	printEvent := eventPrinter(cc.App.ErrWriter, cfg.Name)
	// What was said while reconnecting is written to the file too, after
	// the fact (history.AwayPlayer), once the recording has begun.
	var awayp atomic.Pointer[history.AwayPlayer]
	cfg.OnEvent = func(e client.Event) {
		printEvent(e)
		if h, ok := e.Msg.(*proto.History); ok {
			if p := awayp.Load(); p != nil {
				p.Add(h)
			}
		}
	}
	// The recorder exists once the output is open, after connecting:
	// voice that comes before is not recorded (recording has not begun).
	var recp atomic.Pointer[voicefile.Recorder]
	cfg.OnVoice = func(h proto.VoiceHeader, opus []byte, arrival time.Time) {
		if r := recp.Load(); r != nil {
			r.OnVoice(h, opus, arrival)
		}
	}
	cfg.Reconnect = true
	cfg.NoAlarms = true // nobody can acknowledge an alarm at a recorder: it is not waited for
	dialCtx, cancel := context.WithTimeout(cc.Context, 15*time.Second)
	c, err := dial(dialCtx, cfg)
	cancel()
	if err != nil {
		return err // the output was not touched
	}
	defer c.Close()
	ch, _ := c.Channel()
	what := "channel " + ch.Name
	if len(listen) > 0 {
		// Before the output is touched: a channel that does not exist
		// ends here. The set is asked for again after a reconnection.
		mctx, mcancel := context.WithTimeout(cc.Context, 10*time.Second)
		mon, err := c.Monitor(mctx, listen)
		mcancel()
		if err != nil {
			return fmt.Errorf("cannot listen to %s: %w", strings.Join(listen, ", "), err)
		}
		for _, m := range mon {
			what += ", " + m.Name
		}
		what = "channels " + strings.TrimPrefix(what, "channel ")
	}
	w, closeOut, err := out.open()
	if err != nil {
		return err
	}
	defer closeOut()
	rec := voicefile.NewRecorder(w, voicefile.RecordConfig{
		FrameSamples:  frame,
		JitterOptions: jopts,
		Logger:        log,
		OnStart: func(t0 time.Time) {
			log.Info("recording", "file", out.name, "frame_ms", frame/48, "sample0_unix_ns", t0.UnixNano())
		},
		OnActive: func(ids []uint32) {
			if len(ids) == 0 {
				log.Debug("silence")
				return
			}
			who := make([]string, len(ids))
			for i, id := range ids {
				// The talker's name from the client's roster.
				if who[i] = c.Name(id); who[i] == "" {
					who[i] = fmt.Sprintf("session %d", id)
				}
			}
			log.Info("hearing", "talkers", strings.Join(who, ", "))
		},
	})
	recp.Store(rec)
	away := history.NewAwayPlayer(c, rec.OnVoice, history.AwayConfig{
		Hears: c.Hears,
		Say: func(line string) {
			fmt.Fprintf(cc.App.ErrWriter, "%s %s\n", time.Now().Format("15:04:05"), line)
		},
	})
	awayp.Store(away)
	stop := "Ctrl-C to stop"
	if d := cc.Duration("duration"); d > 0 {
		stop = fmt.Sprintf("for %v", d)
	}
	fmt.Fprintf(cc.App.ErrWriter, "recording %s of %s to %s (%s)\n", what, c.Relay(), out.name, stop)

	// Stop when the relay ends the session for good (kicked, replaced by a
	// login elsewhere): there is nothing more to hear.
	runCtx, stopRun := context.WithCancel(cc.Context)
	go away.Run(runCtx)
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
		return fmt.Errorf("recording stopped after %v (saved to %s): %w", recorded, out.name, err)
	}
	st := rec.Stats()
	log.Debug("playout stats", "stats", fmt.Sprintf("%+v", st))
	fmt.Fprintf(cc.App.ErrWriter, "recorded %v to %s\n", recorded, out.name)
	return nil
}

// recordOut is where talk record writes: a file, a named pipe or standard
// output. checkOut looks at it before connecting; open makes or opens it
// only once connected, so a recording that never starts touches nothing.
type recordOut struct {
	name   string    // as the user reads it: the path, or "standard output"
	path   string    // "" for standard output
	stdout io.Writer // for "-"
}

// checkOut refuses, before anything is connected or written, an --out that
// cannot take a recording: a device (--out /dev/null), a directory, a
// socket, a missing directory, or a terminal on standard output.
func checkOut(path string, stdout io.Writer) (recordOut, error) {
	if path == "-" {
		if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			return recordOut{}, usagef("--out -: standard output is a terminal, and a WAV recording is binary: redirect it (--out - > heard.wav) or pipe it (--out - | sox -t wav - -d)")
		}
		return recordOut{name: "standard output", stdout: stdout}, nil
	}
	if path == "" {
		return recordOut{}, usagef("--out needs a file name, or - for standard output")
	}
	o := recordOut{name: path, path: path}
	fi, err := os.Stat(path)
	switch {
	case err == nil:
		return o, checkOutMode(path, fi.Mode())
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		if di, err := os.Stat(dir); err != nil {
			return recordOut{}, fmt.Errorf("cannot create the recording %s: %w", path, err)
		} else if !di.IsDir() {
			return recordOut{}, fmt.Errorf("cannot create the recording %s: %s is not a directory", path, dir)
		}
		return o, nil
	default:
		return recordOut{}, fmt.Errorf("cannot write the recording to %s: %w", path, err)
	}
}

// checkOutMode accepts a regular file or a named pipe.
func checkOutMode(path string, m fs.FileMode) error {
	switch {
	case m.IsRegular(), m&fs.ModeNamedPipe != 0:
		return nil
	case m.IsDir():
		return usagef("--out %s is a directory: give a file name in it, e.g. --out %s", path, filepath.Join(path, "heard.wav"))
	default:
		return usagef("--out %s is not a regular file (it is a device, socket or other special file), and talk record writes only files: give a WAV file name, a named pipe, or - for standard output", path)
	}
}

// open makes or opens the output and starts the WAV in it. A regular file
// gets a WAV whose header is kept up to date; a pipe or standard output one
// that says "read to the end". An existing file is overwritten, never
// removed; a file open made is removed again only if not even the header
// could be written. closeOut closes what open opened (not standard output).
func (o recordOut) open() (w *wav.Writer, closeOut func(), err error) {
	if o.path == "" {
		if f, ok := o.stdout.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				if w, err := wav.NewWriter(f, 48000, 1); err == nil {
					return w, func() {}, nil
				}
			}
		}
		w, err := wav.NewStreamWriter(o.stdout, 48000, 1)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot write the recording to standard output: %w", err)
		}
		return w, func() {}, nil
	}
	f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		// Opened without O_TRUNC: what it is decides whether it may be
		// truncated (it may have changed since checkOut looked).
		f, err = os.OpenFile(o.path, os.O_WRONLY, 0)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("cannot create the recording: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkOutMode(o.path, fi.Mode())
	}
	if err == nil && fi.Mode().IsRegular() {
		if err = f.Truncate(0); err == nil {
			w, err = wav.NewWriter(f, 48000, 1)
		}
	} else if err == nil {
		w, err = wav.NewStreamWriter(f, 48000, 1)
	}
	if err != nil {
		f.Close()
		if created {
			os.Remove(o.path)
		}
		var ue usageError
		if errors.As(err, &ue) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("cannot write the recording to %s: %w", o.path, err)
	}
	return w, func() { f.Close() }, nil
}
