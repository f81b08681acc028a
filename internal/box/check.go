package box

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/ptt"
)

// CheckDeps are Check's seams for tests; the zero value checks the real
// hardware and relay.
type CheckDeps struct {
	// Client adjusts the client configuration before dialing.
	Client func(*client.Config)
}

// ErrCheckFailed is returned by Check when any part of the setup has a
// problem (each is described in Check's output).
var ErrCheckFailed = errors.New("the box's setup has problems (see above)")

// checkTimeout bounds the relay check.
const checkTimeout = 15 * time.Second

// Check tries a box's setup the way Run would use it, without running the
// box: the password file, the sound cards, the push-to-talk inputs, the LED
// lines and the relay. It writes one line per part to w ("ok" or "PROBLEM",
// with what to do about a problem) and returns ErrCheckFailed if any part
// has one.
//
// It logs in to the relay as the box's user for a moment: a box already
// running with the same user is disconnected and reconnects by itself. A
// running box also holds its GPIO lines, which then show as busy.
func Check(ctx context.Context, cfg Config, w io.Writer, deps CheckDeps) error {
	failed := false
	ok := func(part, format string, args ...any) {
		fmt.Fprintf(w, "ok       %-14s %s\n", part, fmt.Sprintf(format, args...))
	}
	problem := func(part string, err error, fix string) {
		failed = true
		fmt.Fprintf(w, "PROBLEM  %-14s %v\n", part, err)
		if fix != "" {
			fmt.Fprintf(w, "         %-14s → %s\n", "", fix)
		}
	}

	// Password.
	pw, err := password(cfg)
	passwordOK := true
	if cfg.PasswordFile != "" {
		switch {
		case err != nil:
			passwordOK = false
			problem("password", err, "create the file with the box's password on its first line, readable by the user the box runs as")
		case pw == "":
			passwordOK = false
			problem("password", fmt.Errorf("%s is empty", cfg.PasswordFile), "put the box's password on its first line")
		default:
			ok("password", "read from %s", cfg.PasswordFile)
		}
	}

	// Sound cards.
	checkSound(ctx, cfg, ok, problem)

	// Push-to-talk inputs, and the replay button.
	evdev := func(part, device, key, fix string) {
		d := &ptt.Evdev{Device: device, Key: key}
		if desc, err := d.Probe(); err != nil {
			problem(part, err, fix+" (`talk devices` lists the input devices); reading /dev/input needs root or the \"input\" group")
		} else {
			ok(part, "%s", desc)
		}
	}
	gpioButton := func(part, line, setting string) {
		bcfg := cfg.Button // the configured bias, active-low and debounce, as Run uses them
		bcfg.Consumer = "hark-check"
		in, err := ptt.GPIOLine(cfg.GPIOChip, line, bcfg)()
		if err == nil {
			var v bool
			v, err = in.Value()
			in.Close()
			if err == nil {
				state := "released"
				if v {
					state = "pressed"
				}
				ok(part, "line %s on %s, %s now", line, cfg.GPIOChip, state)
			}
		}
		if err != nil {
			problem(part, err, gpioFix(setting))
		}
	}
	if cfg.EvdevDevice != "" {
		evdev("button (input)", cfg.EvdevDevice, cfg.EvdevKey, "check ptt-evdev and ptt-evdev-key")
	}
	if cfg.ButtonLine != "" {
		gpioButton("button (GPIO)", cfg.ButtonLine, "ptt-gpio-line")
	}
	switch {
	case cfg.ReplayButton == "":
	case cfg.ReplayIsKey():
		dev := cfg.ReplayDevice
		if dev == "" {
			dev = cfg.EvdevDevice
		}
		evdev("replay button", dev, cfg.ReplayButton, "check replay-button and replay-button-device")
	default:
		gpioButton("replay button", cfg.ReplayButton, "replay-button")
	}
	if cfg.VAD {
		ok("hands-free", "voice activation is on")
	}

	// LEDs.
	if lines, _ := cfg.leds(); len(lines) > 0 {
		out, closeFn, err := openLEDs(cfg, lines)
		if err != nil {
			problem("LEDs", err, gpioFix("the led-* settings"))
		} else {
			_ = out.SetValues(0, 1<<len(lines)-1)
			closeFn()
			ok("LEDs", "lines %s on %s", strings.Join(lines, ", "), cfg.GPIOChip)
		}
	}

	// Relay.
	if !passwordOK {
		problem("relay", errors.New("not tried without the password"), "")
	} else {
		checkRelay(ctx, cfg, pw, deps, ok, problem)
	}

	if failed {
		return ErrCheckFailed
	}
	fmt.Fprintln(w, "Everything checked is ready.")
	return nil
}

// password returns the box's password: the password setting, or the first
// line of password-file. Under systemd the unit hands that file to the box
// as the credential "password" (LoadCredential=), because the service's
// dynamic user may not read /etc/hark/password itself; the credential is
// used when it is there.
func password(cfg Config) (string, error) {
	if cfg.PasswordFile == "" {
		return cfg.Password, nil
	}
	if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
		if pw, err := readPassword(filepath.Join(dir, "password")); err == nil {
			return pw, nil
		}
	}
	return readPassword(cfg.PasswordFile)
}

func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(pw, "\r"), nil
}

func gpioFix(setting string) string {
	return "check gpio-chip and " + setting + " (`gpioinfo` from the gpiod package lists chips and lines); " +
		"a line shown as busy is held by another program, such as this box already running"
}

func checkSound(ctx context.Context, cfg Config, ok func(string, string, ...any), problem func(string, error, string)) {
	backend := cfg.AudioBackend
	if backend == "" {
		backend = "automatic"
	}
	devs, err := audio.List(ctx, cfg.AudioBackend)
	if err != nil {
		problem("sound", err, "check audio-backend; `talk devices` lists what this machine has")
		return
	}
	for _, k := range []struct {
		kind    audio.Kind
		want    string
		part    string
		setting string
	}{{audio.KindCapture, cfg.CaptureDevice, "microphone", "capture-device"}, {audio.KindPlayback, cfg.PlaybackDevice, "speaker", "playback-device"}} {
		var ofKind []audio.DeviceInfo
		for _, d := range devs {
			if d.Kind == k.kind {
				ofKind = append(ofKind, d)
			}
		}
		sel, err := audio.Select(ofKind, k.kind, k.want)
		switch {
		case err != nil:
			problem(k.part, err, "set "+k.setting+" to a name or id from `talk devices`, or plug the sound card in")
		case sel != nil:
			ok(k.part, "%q (%s backend)", sel.Name, backend)
		case len(ofKind) == 0:
			problem(k.part, fmt.Errorf("there is no %s device", k.kind), "plug in a sound card, or check audio-backend")
		default:
			name := ofKind[0].Name
			for _, d := range ofKind {
				if d.Default {
					name = d.Name
				}
			}
			ok(k.part, "default device %q (%s backend)", name, backend)
		}
	}
}

func checkRelay(ctx context.Context, cfg Config, password string, deps CheckDeps, ok func(string, string, ...any), problem func(string, error, string)) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	ccfg := client.Config{Relay: cfg.Relay, Name: cfg.User, Password: password, Channel: cfg.Channel,
		Fingerprint: cfg.Fingerprint, KnownRelaysFile: cfg.KnownRelaysFile, Software: "talk box --check (hark)"}
	if deps.Client != nil {
		deps.Client(&ccfg)
	}
	c, err := client.Dial(ctx, ccfg)
	if err != nil {
		var (
			ae *client.AuthError
			ue *client.UnreachableError
			fe *client.FingerprintError
		)
		fix := "look at the relay's log"
		switch {
		case errors.As(err, &ae):
			fix = "check user and password (or password-file) in the config file; the relay's administrator adds users with `relay user add NAME`"
		case errors.As(err, &ue):
			fix = "check relay in the config file, that the relay runs, and that UDP to its port is not blocked on the way"
		case errors.As(err, &fe):
			fix = "if the relay was reinstalled, confirm its new fingerprint with `relay fingerprint --data /var/lib/hark-relay` on the relay, then set fingerprint to it or remove the relay's line from the known-relays file"
		}
		problem("relay", err, fix)
		return
	}
	defer c.Close()
	rtt, err := c.Ping(ctx)
	if err != nil {
		problem("relay", err, "the connection broke right after logging in; try again, and look at the relay's log")
		return
	}
	ch, _ := c.Channel()
	ok("relay", "logged in to %s as %s in channel %q (round trip %v)", c.Relay(), cfg.User, ch.Name, rtt.Round(100*time.Microsecond))
}
