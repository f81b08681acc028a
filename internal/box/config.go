package box

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/engine"
	"github.com/hark-intercom/hark/internal/gpio"
	"github.com/hark-intercom/hark/internal/playout"
	"github.com/hark-intercom/hark/proto"
)

// Config is a box's configuration, read from its config file by LoadConfig.
//
// The file has one "key = value" per line; blank lines and lines starting
// with # are ignored; values may be quoted with double quotes. Unknown keys
// are errors (a typo must not silently disable the button). See
// internal/deploy/box.conf for every key with its meaning.
type Config struct {
	// Connection.
	Relay           string // host or host:port
	User            string
	Password        string // or PasswordFile
	PasswordFile    string
	Channel         string
	Fingerprint     string
	KnownRelaysFile string

	// Audio.
	AudioBackend   string
	CaptureDevice  string
	PlaybackDevice string
	FrameSamples   int // 480 or 960
	Complexity     int // Opus encoder complexity 1–10; 0 means engine.DefaultComplexity
	Mute           engine.CueSet

	// Push-to-talk: any of these talk.
	EvdevDevice string // path or name part; "" for no evdev input
	EvdevKey    string // key name (KeyCode); "" means space
	EvdevGrab   bool
	GPIOChip    string // chip of the button and LEDs ("gpiochip0")
	ButtonLine  string // "" for no GPIO button
	Button      gpio.InputConfig
	VAD         bool // talk when a voice is heard (hands-free)
	// VADPreRoll is how much audio from just before the voice was detected
	// starts each hands-free transmission (engine.Config.PreRoll); 0 means
	// DefaultVADPreRoll, a negative value none.
	VADPreRoll time.Duration

	// ReplayButton plays the last missed transmission again (a relay that
	// keeps history): an evdev key or button name (KEY_…, BTN_…) of
	// ReplayDevice, or else a GPIO line on GPIOChip (with the push-to-talk
	// button's active-low, bias and debounce). "" for none.
	ReplayButton string
	// ReplayDevice is the evdev device of a ReplayButton key; "" means the
	// ptt-evdev device, or else the first device that has the key.
	ReplayDevice string

	// PageButton pages every channel while held (the box's user needs the
	// page role): an evdev key or button name of PageDevice, or a GPIO line,
	// like ReplayButton. "" for none.
	PageButton string
	// PageDevice is the evdev device of a PageButton key (see ReplayDevice).
	PageDevice string

	// Listen names channels the box hears besides Channel (it talks only
	// in Channel).
	Listen []string
	// Volumes are per-channel volumes by channel name ("volume #dock =
	// 50": 0.5), for the box's channel and the ones it listens to: 1 as
	// received, 0 silent, up to playout.MaxGain. Absent: 1.
	Volumes map[string]float64
	// Call is the user the call button talks to alone while held (a
	// whisper), or several: a comma-separated list, or role:NAME; CallButton the button, like PageButton; CallDevice the
	// evdev device of a CallButton key.
	Call, CallButton, CallDevice string

	// LEDs: GPIO lines on GPIOChip; "" leaves one out.
	LEDConnected, LEDTalking, LEDReceiving, LEDRing string
	LEDActiveLow                                    bool
	RingFor                                         time.Duration // how long the ring LED blinks

	LogLevel string // debug, info, warn, error
	LogJSON  bool
}

// LoadConfig reads a config file.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading the box config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses a config file's contents and checks them.
func ParseConfig(b []byte) (Config, error) {
	cfg := Config{FrameSamples: 960, RingFor: 10 * time.Second, LogLevel: "info", GPIOChip: "gpiochip0",
		Button: gpio.InputConfig{ActiveLow: true, Bias: gpio.BiasPullUp, Debounce: gpio.DefaultDebounce}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		if !ok {
			return Config{}, fmt.Errorf("line %d: expected key = value, got %q", n, text)
		}
		raw := strings.TrimSpace(k)
		k = strings.ToLower(raw)
		v, err := value(strings.TrimSpace(v))
		if err != nil {
			return Config{}, fmt.Errorf("line %d: %w", n, err)
		}
		if rest, ok := strings.CutPrefix(k, "volume"); ok && rest != "" {
			// "volume #NAME": the channel's name as written (not lowercased).
			name, ok := strings.CutPrefix(strings.TrimSpace(raw[len("volume"):]), "#")
			if !ok || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '#') {
				return Config{}, fmt.Errorf("line %d: %q: a channel's volume is set as volume #CHANNEL = PERCENT", n, raw)
			}
			k = "volume #" + strings.TrimSpace(name)
		}
		if prev, dup := seen[k]; dup {
			return Config{}, fmt.Errorf("line %d: %s is already set on line %d", n, k, prev)
		}
		seen[k] = n
		if err := cfg.set(k, v); err != nil {
			return Config{}, fmt.Errorf("line %d: %s: %w", n, k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return Config{}, err
	}
	return cfg, cfg.check()
}

// value unquotes a value and drops a trailing comment (" # …").
func value(v string) (string, error) {
	if strings.HasPrefix(v, `"`) {
		q, err := strconv.QuotedPrefix(v)
		if err != nil {
			return "", fmt.Errorf("unterminated quoted value %s", v)
		}
		rest := strings.TrimSpace(v[len(q):])
		if rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Errorf("unexpected %q after the quoted value", rest)
		}
		return strconv.Unquote(q)
	}
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i]), nil
		}
	}
	return v, nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not yes or no", v)
}

// keys lists the accepted keys, for the unknown-key error.
var keys = []string{"relay", "user", "password", "password-file", "channel", "fingerprint", "known-relays",
	"audio-backend", "capture-device", "playback-device", "frame", "complexity", "mute",
	"ptt-evdev", "ptt-evdev-key", "ptt-evdev-grab", "gpio-chip", "ptt-gpio-line", "ptt-gpio-active-low",
	"ptt-gpio-bias", "ptt-gpio-debounce", "vad", "vad-preroll", "replay-button", "replay-button-device", "page-button", "page-button-device",
	"listen", "volume #CHANNEL", "call", "call-button", "call-button-device",
	"led-connected", "led-talking", "led-receiving", "led-ring", "led-active-low", "ring-led-for",
	"log-level", "log-json"}

func (c *Config) set(k, v string) error {
	var err error
	switch k {
	case "relay":
		c.Relay = v
	case "user":
		c.User = v
	case "password":
		c.Password = v
	case "password-file":
		c.PasswordFile = v
	case "channel":
		c.Channel = v
	case "fingerprint":
		c.Fingerprint = v
	case "known-relays":
		c.KnownRelaysFile = v
	case "audio-backend":
		c.AudioBackend = v
	case "capture-device":
		c.CaptureDevice = v
	case "playback-device":
		c.PlaybackDevice = v
	case "frame":
		switch v {
		case "20ms", "20":
			c.FrameSamples = 960
		case "10ms", "10":
			c.FrameSamples = 480
		default:
			return fmt.Errorf("%q: use 20ms or 10ms", v)
		}
	case "complexity":
		c.Complexity, err = strconv.Atoi(v)
		if err == nil && (c.Complexity < 1 || c.Complexity > 10) {
			err = fmt.Errorf("%d: use 1 (least CPU) to 10 (best quality)", c.Complexity)
		}
	case "mute":
		c.Mute, err = engine.ParseCues(v)
	case "ptt-evdev":
		c.EvdevDevice = v
	case "ptt-evdev-key":
		c.EvdevKey = v
	case "ptt-evdev-grab":
		c.EvdevGrab, err = parseBool(v)
	case "gpio-chip":
		c.GPIOChip = v
	case "ptt-gpio-line":
		c.ButtonLine = v
	case "ptt-gpio-active-low":
		c.Button.ActiveLow, err = parseBool(v)
	case "ptt-gpio-bias":
		switch strings.ToLower(v) {
		case "as-is", "":
			c.Button.Bias = gpio.BiasAsIs
		case "pull-up":
			c.Button.Bias = gpio.BiasPullUp
		case "pull-down":
			c.Button.Bias = gpio.BiasPullDown
		case "disabled", "none":
			c.Button.Bias = gpio.BiasDisabled
		default:
			return fmt.Errorf("%q: use pull-up, pull-down, disabled or as-is", v)
		}
	case "ptt-gpio-debounce":
		c.Button.Debounce, err = time.ParseDuration(v)
	case "vad":
		c.VAD, err = parseBool(v)
	case "vad-preroll":
		c.VADPreRoll, err = time.ParseDuration(v)
		if err == nil && c.VADPreRoll == 0 {
			c.VADPreRoll = -1
		}
	case "replay-button":
		c.ReplayButton = v
	case "replay-button-device":
		c.ReplayDevice = v
	case "page-button":
		c.PageButton = v
	case "page-button-device":
		c.PageDevice = v
	case "listen":
		c.Listen = nil
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				if err := accounts.CheckName("channel", n); err != nil {
					return err
				}
				c.Listen = append(c.Listen, n)
			}
		}
		if len(c.Listen) > proto.MaxMonitored {
			return fmt.Errorf("%d channels: a box hears at most %d besides its own", len(c.Listen), proto.MaxMonitored)
		}
	case "call":
		if err := accounts.CheckCallees(client.Callees(v), ""); err != nil {
			return err
		}
		c.Call = v
	case "call-button":
		c.CallButton = v
	case "call-button-device":
		c.CallDevice = v
	case "led-connected":
		c.LEDConnected = v
	case "led-talking":
		c.LEDTalking = v
	case "led-receiving":
		c.LEDReceiving = v
	case "led-ring":
		c.LEDRing = v
	case "led-active-low":
		c.LEDActiveLow, err = parseBool(v)
	case "ring-led-for":
		c.RingFor, err = time.ParseDuration(v)
	case "log-level":
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
		default:
			return fmt.Errorf("%q: use debug, info, warn or error", v)
		}
	case "log-json":
		c.LogJSON, err = parseBool(v)
	default:
		if name, ok := strings.CutPrefix(k, "volume #"); ok {
			// k keeps the name as written (see ParseConfig).
			return c.setVolume(name, v)
		}
		sorted := append([]string(nil), keys...)
		sort.Strings(sorted)
		return fmt.Errorf("unknown setting; the settings are %s", strings.Join(sorted, ", "))
	}
	return err
}

func (c *Config) check() error {
	if c.Relay == "" {
		return fmt.Errorf("relay is not set (the relay's host or host:port)")
	}
	if c.User == "" {
		return fmt.Errorf("user is not set (the name this box logs in with)")
	}
	if c.Password != "" && c.PasswordFile != "" {
		return fmt.Errorf("set password or password-file, not both")
	}
	if c.EvdevDevice == "" && c.ButtonLine == "" && !c.VAD {
		return fmt.Errorf("no push-to-talk input: set ptt-evdev, ptt-gpio-line or vad = yes")
	}
	if c.ReplayDevice != "" && !c.ReplayIsKey() {
		return fmt.Errorf("replay-button-device is set but replay-button %q is not a key name (KEY_… or BTN_…)", c.ReplayButton)
	}
	if c.PageDevice != "" && !isKeyName(c.PageButton) {
		return fmt.Errorf("page-button-device is set but page-button %q is not a key name (KEY_… or BTN_…)", c.PageButton)
	}
	if c.CallButton != "" && c.Call == "" {
		return fmt.Errorf("call-button is set but call is not: set call = NAME, the user the button talks to")
	}
	if c.Call != "" && c.CallButton == "" {
		return fmt.Errorf("call = %s is set but call-button is not: set the button that calls them", c.Call)
	}
	if c.Call != "" && slices.Contains(client.Callees(c.Call), c.User) {
		return fmt.Errorf("call = %s names this box's own user: name the users the button talks to", c.Call)
	}
	if c.CallDevice != "" && !isKeyName(c.CallButton) {
		return fmt.Errorf("call-button-device is set but call-button %q is not a key name (KEY_… or BTN_…)", c.CallButton)
	}
	for name := range c.Volumes {
		if name != c.Channel && !slices.Contains(c.Listen, name) {
			return fmt.Errorf("volume #%s is set but %s is neither the box's channel nor in listen: add it to listen = (or set channel = %s)", name, name, name)
		}
	}
	if c.RingFor <= 0 {
		return fmt.Errorf("ring-led-for must be positive")
	}
	return nil
}

// setVolume parses "volume #NAME = PERCENT" (50 or 50 %).
func (c *Config) setVolume(name, v string) error {
	if err := accounts.CheckName("channel", name); err != nil {
		return err
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
	if err != nil || p < 0 || p > playout.MaxGain*100 {
		return fmt.Errorf("%q: give a percentage from 0 (silent) to %d (100 is as received)", v, playout.MaxGain*100)
	}
	if c.Volumes == nil {
		c.Volumes = map[string]float64{}
	}
	c.Volumes[name] = p / 100
	return nil
}

// leds returns the configured LED lines in LED index order and which index
// each role has (-1: none).
func (c *Config) leds() (lines []string, idx [numLEDs]int) {
	for i, l := range [numLEDs]string{c.LEDConnected, c.LEDTalking, c.LEDReceiving, c.LEDRing} {
		idx[i] = -1
		if l != "" {
			idx[i] = len(lines)
			lines = append(lines, l)
		}
	}
	return lines, idx
}

// The LED roles.
const (
	ledConnected = iota
	ledTalking
	ledReceiving
	ledRing
	numLEDs
)

// ReplayIsKey reports whether ReplayButton names an evdev key (else a GPIO
// line).
func (c *Config) ReplayIsKey() bool { return isKeyName(c.ReplayButton) }

// isKeyName reports whether a button setting names an evdev key or button
// (KEY_…, BTN_…), else a GPIO line.
func isKeyName(s string) bool {
	u := strings.ToUpper(s)
	return strings.HasPrefix(u, "KEY_") || strings.HasPrefix(u, "BTN_")
}
