package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/proto"
)

const software = "talk (hark)"

// commonFlags are the connection flags every verb takes.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "relay", Aliases: []string{"r"}, EnvVars: []string{"HARK_RELAY"}, Value: "127.0.0.1",
			Usage: fmt.Sprintf("relay address, HOST or HOST:PORT (port %d when none is given); several relays of one cluster separated by commas (a:4275,b:4275): talk moves to the next when its relay dies", proto.DefaultPort)},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, EnvVars: []string{"HARK_USER"},
			Usage: "user name to log in with (default: your login name)"},
		&cli.StringFlag{Name: "password-file", EnvVars: []string{"HARK_PASSWORD_FILE"}, TakesFile: true,
			Usage: "read the password from the first line of `FILE`"},
		&cli.StringFlag{Name: "password", EnvVars: []string{"HARK_PASSWORD"},
			Usage: "password (prefer --password-file or the environment: a flag is visible to other users of this machine)"},
		&cli.StringFlag{Name: "channel", Aliases: []string{"c"}, EnvVars: []string{"HARK_CHANNEL"},
			Usage: "channel to join", DefaultText: "the relay's default channel"},
		&cli.StringFlag{Name: "fingerprint", EnvVars: []string{"HARK_FINGERPRINT"},
			Usage: "the relay certificate's fingerprint, `SHA256:…` as printed by 'relay fingerprint' (default: trust on first use)"},
		&cli.StringFlag{Name: "known-relays", EnvVars: []string{"HARK_KNOWN_RELAYS"}, TakesFile: true,
			Usage: "file of trusted relay fingerprints (default ~/.config/hark/known_relays)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, EnvVars: []string{"HARK_VERBOSE"},
			Usage: "log what talk does (connection, timing); without it only warnings and errors are logged"},
	}
}

// frameFlag is the --frame flag of the verbs that carry audio.
func frameFlag() cli.Flag {
	return &cli.StringFlag{Name: "frame", EnvVars: []string{"HARK_FRAME"}, Value: "20ms",
		Usage: "audio frame length: 20ms or 10ms (lower delay, more packets)"}
}

// frameSamples reads --frame.
func frameSamples(cc *cli.Context) (int, error) {
	switch strings.TrimSpace(cc.String("frame")) {
	case "20ms", "20":
		return 960, nil
	case "10ms", "10":
		return 480, nil
	}
	return 0, usagef("--frame %q: use 20ms or 10ms", cc.String("frame"))
}

// logger writes talk's logs to the app's error writer (standard error):
// warnings and errors only, unless --verbose asks for everything.
func logger(cc *cli.Context) *slog.Logger {
	lvl := slog.LevelWarn
	if cc.Bool("verbose") {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(cc.App.ErrWriter, &slog.HandlerOptions{Level: lvl}))
}

func userName(cc *cli.Context) (string, error) {
	if n := cc.String("user"); n != "" {
		return n, nil
	}
	if n := os.Getenv("USER"); n != "" {
		return n, nil
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	return "", usagef("no user name: pass --user NAME or set HARK_USER")
}

func password(cc *cli.Context) (string, error) {
	if f := cc.String("password-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("reading the password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	return cc.String("password"), nil
}

// clientConfig builds the client configuration from the common flags.
func clientConfig(cc *cli.Context) (client.Config, error) {
	name, err := userName(cc)
	if err != nil {
		return client.Config{}, err
	}
	if err := accounts.CheckName("user", name); err != nil {
		return client.Config{}, usagef("--user: %v", err)
	}
	pw, err := password(cc)
	if err != nil {
		return client.Config{}, err
	}
	fp := strings.TrimSpace(cc.String("fingerprint"))
	if fp != "" {
		if err := certs.CheckFingerprint(fp); err != nil {
			return client.Config{}, usagef("--fingerprint: %v", err)
		}
	}
	return client.Config{
		Relay:           cc.String("relay"),
		Name:            name,
		Password:        pw,
		Channel:         cc.String("channel"),
		Fingerprint:     fp,
		KnownRelaysFile: cc.String("known-relays"),
		Software:        software,
		Logger:          logger(cc),
	}, nil
}

// listenFlag is --listen: channels to hear besides the joined one.
func listenFlag() cli.Flag {
	return &cli.StringFlag{Name: "listen", Aliases: []string{"l"}, EnvVars: []string{"HARK_LISTEN"},
		Usage: "also hear these channels, comma-separated (e.g. ops,dock), besides the one you talk in; you still talk only in --channel"}
}

// listenChannels parses --listen into channel names (none when not set).
func listenChannels(cc *cli.Context) ([]string, error) {
	var out []string
	for _, n := range strings.Split(cc.String("listen"), ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if err := accounts.CheckName("channel", n); err != nil {
			return nil, usagef("--listen: %v", err)
		}
		out = append(out, n)
	}
	if len(out) > proto.MaxMonitored {
		return nil, usagef("--listen names %d channels; at most %d can be heard besides your own", len(out), proto.MaxMonitored)
	}
	return out, nil
}

// dial connects with cfg and explains a failure.
// connect dials the relay named by the common flags: the one-shot verbs'
// way in (clientConfig, then dial).
func connect(cc *cli.Context) (*client.Client, error) {
	cfg, err := clientConfig(cc)
	if err != nil {
		return nil, err
	}
	return dial(cc.Context, cfg)
}

func dial(ctx context.Context, cfg client.Config) (*client.Client, error) {
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		var ae *client.AuthError
		if errors.As(err, &ae) && cfg.Password == "" {
			return nil, fmt.Errorf("%w (no password was given: use --password-file FILE or HARK_PASSWORD)", err)
		}
		return nil, err
	}
	return c, nil
}

// classify maps errors to exit codes.
func classify(err error) int {
	var (
		ce *client.CutError
		be *client.BusyError
		ae *client.AuthError
		fe *client.ForbiddenError
		ue *client.UnreachableError
		pe *client.FingerprintError
	)
	switch {
	case errors.As(err, &ce):
		if ce.By != "" {
			return exitBusy // a page took the floor
		}
		return exitError
	case errors.As(err, &be):
		return exitBusy
	case errors.As(err, &ae), errors.As(err, &fe):
		return exitAuth
	case errors.As(err, &ue), errors.As(err, &pe):
		return exitNoConnect
	}
	return exitError
}

// explainBusy adds advice to a busy refusal.
func explainBusy(err error) error {
	var be *client.BusyError
	if errors.As(err, &be) {
		return fmt.Errorf("%w — try again when they release", err)
	}
	return err
}

// eventPrinter writes events for a person to w: who talks, texts, rings,
// pages and the connection's state.
func eventPrinter(w io.Writer, self string) func(client.Event) {
	// Channel names by voice id, from the joined and monitored channels:
	// a talker in a monitored channel is shown with the channel's name.
	var own uint16
	monitored := map[uint16]string{}
	// lost: the connection was lost and is not back yet; the loss is said
	// once, not again for every failed attempt, and the return is said.
	var lost bool
	return func(e client.Event) {
		ts := e.Time.Format("15:04:05")
		switch e.State {
		case client.StateReconnecting:
			if !lost {
				fmt.Fprintf(w, "%s connection to the relay lost (%v); reconnecting…\n", ts, e.Err)
			}
			lost = true
			return
		case client.StateConnected:
			if lost {
				fmt.Fprintf(w, "%s connected to the relay again\n", ts)
			}
			lost = false
			return
		case client.StateClosed:
			if e.Err != nil {
				fmt.Fprintf(w, "%s disconnected: %v\n", ts, e.Err)
			}
			return
		}
		switch m := e.Msg.(type) {
		case *proto.PresenceChange:
			switch m.Kind {
			case proto.PresenceOnline:
				fmt.Fprintf(w, "%s %s is online\n", ts, m.User.Name)
			case proto.PresenceOffline:
				fmt.Fprintf(w, "%s %s went offline\n", ts, m.User.Name)
			case proto.PresenceMoved:
				if m.User.Channel == "" {
					fmt.Fprintf(w, "%s %s left their channel\n", ts, m.User.Name)
				} else {
					fmt.Fprintf(w, "%s %s is now in %s\n", ts, m.User.Name, m.User.Channel)
				}
			}
		case *proto.Joined:
			own = m.ID
		case *proto.Monitoring:
			clear(monitored)
			names := make([]string, len(m.Channels))
			for i, ch := range m.Channels {
				monitored[ch.ID] = ch.Name
				names[i] = ch.Name
			}
			if len(names) > 0 {
				fmt.Fprintf(w, "%s also listening to %s\n", ts, strings.Join(names, ", "))
			}
		case *proto.Whisper:
			if from, to := client.CallParties(m, self, "you"); m.Active {
				fmt.Fprintf(w, "%s CALL %s → %s (only %s hear it)\n", ts, from, to, map[bool]string{true: "you", false: "they"}[to == "you"])
			} else {
				fmt.Fprintf(w, "%s call %s → %s ended\n", ts, from, to)
			}
		case *proto.Talking:
			who := m.Name
			if m.Priority {
				who += " (page)"
			}
			if n, ok := monitored[m.Channel]; ok && m.Channel != own && !m.Priority {
				who += " in " + n
			}
			if m.Talking {
				fmt.Fprintf(w, "%s %s is talking\n", ts, who)
			} else {
				fmt.Fprintf(w, "%s %s stopped talking\n", ts, who)
			}
		case *proto.Text:
			to := m.Channel
			if m.To != "" {
				to = "you (private)"
			}
			at := time.UnixMilli(m.Time).Format("15:04:05")
			fmt.Fprintf(w, "%s TEXT from %s to %s: %s\n", at, m.FromName, to, m.Text)
		case *proto.Ring:
			fmt.Fprintf(w, "%s %s\n", time.UnixMilli(m.Time).Format("15:04:05"), client.RingText(m, self))
		case *proto.AlarmAck:
			fmt.Fprintf(w, "%s %s\n", ts, client.AlarmAckText(m, 0))
		case *proto.Page:
			if m.Active {
				fmt.Fprintf(w, "%s PAGE from %s to all channels\n", ts, m.FromName)
			} else {
				fmt.Fprintf(w, "%s page from %s ended\n", ts, m.FromName)
			}
		case *proto.Error:
			fmt.Fprintf(w, "%s relay: %s\n", ts, m.Text)
		case *proto.Bye:
			fmt.Fprintf(w, "%s the relay ended the session: %s\n", ts, m.Text)
		case *proto.History:
			// What came while this program was not connected (after a
			// login and each reconnection). The client counts it as seen
			// once this returns, so it is said here.
			if m.Flags&proto.HistoryMissed == 0 {
				return
			}
			for _, it := range m.Items {
				at := time.UnixMilli(it.Time).Format("15:04:05")
				fmt.Fprintf(w, "%s missed: %s\n", at, history.Describe(it, self))
			}
			if m.More {
				fmt.Fprintf(w, "%s more was missed than listed here: \"talk history\" lists it\n", ts)
			}
		}
	}
}
