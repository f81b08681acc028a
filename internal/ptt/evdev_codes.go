package ptt

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// evdevKeys maps linux/input-event-codes.h names to codes, for the keys and
// buttons people use for push-to-talk: keyboard keys, F13–F24 (which many
// programmable PTT buttons and pedals send), media keys, mouse, joystick and
// gamepad buttons, and BTN_0… which generic USB HID buttons and foot pedals
// (e.g. VEC Infinity, Olympus) often report.
var evdevKeys = map[string]uint16{
	"KEY_ESC": 1, "KEY_1": 2, "KEY_2": 3, "KEY_3": 4, "KEY_4": 5, "KEY_5": 6, "KEY_6": 7, "KEY_7": 8, "KEY_8": 9, "KEY_9": 10, "KEY_0": 11,
	"KEY_MINUS": 12, "KEY_EQUAL": 13, "KEY_BACKSPACE": 14, "KEY_TAB": 15,
	"KEY_Q": 16, "KEY_W": 17, "KEY_E": 18, "KEY_R": 19, "KEY_T": 20, "KEY_Y": 21, "KEY_U": 22, "KEY_I": 23, "KEY_O": 24, "KEY_P": 25,
	"KEY_LEFTBRACE": 26, "KEY_RIGHTBRACE": 27, "KEY_ENTER": 28, "KEY_LEFTCTRL": 29,
	"KEY_A": 30, "KEY_S": 31, "KEY_D": 32, "KEY_F": 33, "KEY_G": 34, "KEY_H": 35, "KEY_J": 36, "KEY_K": 37, "KEY_L": 38,
	"KEY_SEMICOLON": 39, "KEY_APOSTROPHE": 40, "KEY_GRAVE": 41, "KEY_LEFTSHIFT": 42, "KEY_BACKSLASH": 43,
	"KEY_Z": 44, "KEY_X": 45, "KEY_C": 46, "KEY_V": 47, "KEY_B": 48, "KEY_N": 49, "KEY_M": 50,
	"KEY_COMMA": 51, "KEY_DOT": 52, "KEY_SLASH": 53, "KEY_RIGHTSHIFT": 54, "KEY_KPASTERISK": 55, "KEY_LEFTALT": 56,
	"KEY_SPACE": 57, "KEY_CAPSLOCK": 58,
	"KEY_F1": 59, "KEY_F2": 60, "KEY_F3": 61, "KEY_F4": 62, "KEY_F5": 63, "KEY_F6": 64, "KEY_F7": 65, "KEY_F8": 66, "KEY_F9": 67, "KEY_F10": 68,
	"KEY_NUMLOCK": 69, "KEY_SCROLLLOCK": 70, "KEY_KP0": 82, "KEY_KPENTER": 96, "KEY_F11": 87, "KEY_F12": 88,
	"KEY_RIGHTCTRL": 97, "KEY_SYSRQ": 99, "KEY_RIGHTALT": 100, "KEY_HOME": 102, "KEY_UP": 103, "KEY_PAGEUP": 104,
	"KEY_LEFT": 105, "KEY_RIGHT": 106, "KEY_END": 107, "KEY_DOWN": 108, "KEY_PAGEDOWN": 109, "KEY_INSERT": 110, "KEY_DELETE": 111,
	"KEY_MUTE": 113, "KEY_VOLUMEDOWN": 114, "KEY_VOLUMEUP": 115, "KEY_PAUSE": 119,
	"KEY_LEFTMETA": 125, "KEY_RIGHTMETA": 126, "KEY_COMPOSE": 127, "KEY_MENU": 139,
	"KEY_PLAYPAUSE": 164, "KEY_RECORD": 167, "KEY_PHONE": 169,
	"KEY_F13": 183, "KEY_F14": 184, "KEY_F15": 185, "KEY_F16": 186, "KEY_F17": 187, "KEY_F18": 188,
	"KEY_F19": 189, "KEY_F20": 190, "KEY_F21": 191, "KEY_F22": 192, "KEY_F23": 193, "KEY_F24": 194,
	"KEY_MEDIA": 226, "KEY_MICMUTE": 248, "KEY_VOICECOMMAND": 0x246,
	"BTN_0": 0x100, "BTN_1": 0x101, "BTN_2": 0x102, "BTN_3": 0x103, "BTN_4": 0x104,
	"BTN_5": 0x105, "BTN_6": 0x106, "BTN_7": 0x107, "BTN_8": 0x108, "BTN_9": 0x109,
	"BTN_LEFT": 0x110, "BTN_RIGHT": 0x111, "BTN_MIDDLE": 0x112, "BTN_SIDE": 0x113, "BTN_EXTRA": 0x114,
	"BTN_FORWARD": 0x115, "BTN_BACK": 0x116,
	"BTN_TRIGGER": 0x120, "BTN_THUMB": 0x121, "BTN_THUMB2": 0x122, "BTN_TOP": 0x123, "BTN_TOP2": 0x124,
	"BTN_PINKIE": 0x125, "BTN_BASE": 0x126,
	"BTN_SOUTH": 0x130, "BTN_A": 0x130, "BTN_EAST": 0x131, "BTN_B": 0x131, "BTN_NORTH": 0x133, "BTN_X": 0x133,
	"BTN_WEST": 0x134, "BTN_Y": 0x134, "BTN_TL": 0x136, "BTN_TR": 0x137, "BTN_SELECT": 0x13a, "BTN_START": 0x13b,
	"BTN_TRIGGER_HAPPY1": 0x2c0, "BTN_TRIGGER_HAPPY2": 0x2c1, "BTN_TRIGGER_HAPPY3": 0x2c2, "BTN_TRIGGER_HAPPY4": 0x2c3,
}

// keyMax is KEY_MAX from linux/input-event-codes.h.
const keyMax = 0x2ff

// KeyCode resolves an evdev key: a name from linux/input-event-codes.h
// ("KEY_F13", "BTN_0"; the KEY_ prefix and case may be left out: "f13",
// "space"), or a number ("0x100", "256") as shown by evtest.
func KeyCode(name string) (uint16, error) {
	if name == "" {
		return 0, fmt.Errorf("no evdev key given; use a name such as KEY_SPACE, KEY_F13 or BTN_0, or a code as shown by evtest")
	}
	if n, err := strconv.ParseUint(name, 0, 16); err == nil {
		if n == 0 || n > keyMax {
			return 0, fmt.Errorf("evdev key code %s out of range (1 to %#x)", name, keyMax)
		}
		return uint16(n), nil
	}
	u := strings.ToUpper(name)
	if c, ok := evdevKeys[u]; ok {
		return c, nil
	}
	if c, ok := evdevKeys["KEY_"+u]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("unknown evdev key %q; use a name such as %s, or the number evtest shows", name, strings.Join(sampleKeys(), ", "))
}

// KeyName returns the name of a code, or its number.
func KeyName(code uint16) string {
	best := ""
	for n, c := range evdevKeys {
		if c == code && (best == "" || n < best) {
			best = n
		}
	}
	if best == "" {
		return fmt.Sprintf("%#x", code)
	}
	return best
}

func sampleKeys() []string {
	s := []string{"KEY_SPACE", "KEY_F13", "KEY_RIGHTCTRL", "KEY_PAUSE", "BTN_0", "BTN_LEFT", "BTN_TRIGGER"}
	sort.Strings(s)
	return s
}
