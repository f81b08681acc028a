// Package gpio drives Linux GPIO lines through the GPIO character device
// (/dev/gpiochip*, uAPI v2, Linux 5.10 and later): an input line with edge
// events, kernel debounce and active-low for a push-to-talk button, and
// output lines for LEDs with blink patterns (see LEDs).
//
// The kernel ABI structures are declared in this file with their sizes and
// offsets checked by tests against linux/gpio.h; the ioctl calls themselves
// are in chip_linux.go. Code that uses lines goes through the small Input and
// Outputs interfaces, so that it can be tested with fakes on machines that
// have no GPIO chip.
package gpio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Sizes from linux/gpio.h.
const (
	maxNameSize = 32 // GPIO_MAX_NAME_SIZE
	linesMax    = 64 // GPIO_V2_LINES_MAX
	numAttrsMax = 10 // GPIO_V2_LINE_NUM_ATTRS_MAX
)

// Line flags (enum gpio_v2_line_flag).
const (
	FlagUsed               uint64 = 1 << 0
	FlagActiveLow          uint64 = 1 << 1
	FlagInput              uint64 = 1 << 2
	FlagOutput             uint64 = 1 << 3
	FlagEdgeRising         uint64 = 1 << 4
	FlagEdgeFalling        uint64 = 1 << 5
	FlagOpenDrain          uint64 = 1 << 6
	FlagOpenSource         uint64 = 1 << 7
	FlagBiasPullUp         uint64 = 1 << 8
	FlagBiasPullDown       uint64 = 1 << 9
	FlagBiasDisabled       uint64 = 1 << 10
	FlagEventClockRealtime uint64 = 1 << 11
	FlagEventClockHTE      uint64 = 1 << 12
)

// Attribute ids (enum gpio_v2_line_attr_id).
const (
	attrFlags        = 1
	attrOutputValues = 2
	attrDebounce     = 3
)

// Edge event ids (enum gpio_v2_line_event_id).
const (
	EventRisingEdge  = 1
	EventFallingEdge = 2
)

// struct gpiochip_info
type chipInfo struct {
	Name  [maxNameSize]byte
	Label [maxNameSize]byte
	Lines uint32
}

// struct gpio_v2_line_attribute; the union is one 64-bit word (flags,
// values, or debounce_period_us in its low 32 bits on little-endian).
type lineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64
}

// struct gpio_v2_line_config_attribute
type lineConfigAttribute struct {
	Attr lineAttribute
	Mask uint64
}

// struct gpio_v2_line_config
type lineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [numAttrsMax]lineConfigAttribute
}

// struct gpio_v2_line_request
type lineRequest struct {
	Offsets         [linesMax]uint32
	Consumer        [maxNameSize]byte
	Config          lineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

// struct gpio_v2_line_values
type lineValues struct {
	Bits uint64
	Mask uint64
}

// struct gpio_v2_line_info
type lineInfo struct {
	Name     [maxNameSize]byte
	Consumer [maxNameSize]byte
	Offset   uint32
	NumAttrs uint32
	Flags    uint64
	Attrs    [numAttrsMax]lineAttribute
	Padding  [4]uint32
}

// LineEventSize is sizeof(struct gpio_v2_line_event).
const LineEventSize = 48

// ioctl request numbers, encoded as _IOC(dir, 0xB4, nr, size) with the
// generic Linux layout (x86, arm, arm64, riscv).
func ioc(dir, nr, size uintptr) uintptr {
	const typ = 0xB4
	return dir<<30 | size<<16 | typ<<8 | nr
}

const (
	iocWrite = 1
	iocRead  = 2
)

var (
	ioctlGetChipInfo = ioc(iocRead, 0x01, 68)           // GPIO_GET_CHIPINFO_IOCTL
	ioctlGetLineInfo = ioc(iocRead|iocWrite, 0x05, 256) // GPIO_V2_GET_LINEINFO_IOCTL
	ioctlGetLine     = ioc(iocRead|iocWrite, 0x07, 592) // GPIO_V2_GET_LINE_IOCTL
	ioctlSetConfig   = ioc(iocRead|iocWrite, 0x0D, 272) // GPIO_V2_LINE_SET_CONFIG_IOCTL
	ioctlGetValues   = ioc(iocRead|iocWrite, 0x0E, 16)  // GPIO_V2_LINE_GET_VALUES_IOCTL
	ioctlSetValues   = ioc(iocRead|iocWrite, 0x0F, 16)  // GPIO_V2_LINE_SET_VALUES_IOCTL
	_                = ioctlSetConfig                   // not used yet; kept with the others for the ABI test
)

// LineEvent is one edge event (struct gpio_v2_line_event).
type LineEvent struct {
	Timestamp time.Duration // CLOCK_MONOTONIC (or realtime/HTE if requested) in ns
	ID        uint32        // EventRisingEdge or EventFallingEdge
	Offset    uint32        // line offset on the chip
	Seqno     uint32        // sequence number among all lines of the request
	LineSeqno uint32        // sequence number of this line
}

// Rising reports whether the event is a rising edge: with an active-low
// line the kernel reports logical edges, so rising means "became active".
func (e LineEvent) Rising() bool { return e.ID == EventRisingEdge }

// ErrBadEvent marks a line event that could not be decoded; the line itself
// is still usable.
var ErrBadEvent = errors.New("gpio: bad line event")

// DecodeLineEvent decodes one struct gpio_v2_line_event in the machine's
// byte order (little-endian on every platform this package supports).
func DecodeLineEvent(b []byte) (LineEvent, error) {
	if len(b) < LineEventSize {
		return LineEvent{}, fmt.Errorf("%w: needs %d bytes, got %d", ErrBadEvent, LineEventSize, len(b))
	}
	le := binary.LittleEndian
	e := LineEvent{
		Timestamp: time.Duration(le.Uint64(b[0:])),
		ID:        le.Uint32(b[8:]),
		Offset:    le.Uint32(b[12:]),
		Seqno:     le.Uint32(b[16:]),
		LineSeqno: le.Uint32(b[20:]),
	}
	if e.ID != EventRisingEdge && e.ID != EventFallingEdge {
		return e, fmt.Errorf("%w: unknown event id %d", ErrBadEvent, e.ID)
	}
	return e, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// Bias selects the line's pull resistor.
type Bias int

// Bias values.
const (
	BiasAsIs     Bias = iota // leave as configured (device tree)
	BiasPullUp               // internal pull-up: button to ground
	BiasPullDown             // internal pull-down: button to 3.3 V
	BiasDisabled
)

func (b Bias) flags() uint64 {
	switch b {
	case BiasPullUp:
		return FlagBiasPullUp
	case BiasPullDown:
		return FlagBiasPullDown
	case BiasDisabled:
		return FlagBiasDisabled
	}
	return 0
}

// InputConfig configures a button line.
type InputConfig struct {
	Consumer  string        // shown by gpioinfo; "" means "hark"
	ActiveLow bool          // pressed = electrically low (button to ground with pull-up)
	Bias      Bias          // pull resistor
	Debounce  time.Duration // kernel debounce period; 0 for none
}

// buildInputRequest fills the v2 line request for one input line with
// edge events on both edges.
func buildInputRequest(offset uint32, cfg InputConfig) lineRequest {
	var r lineRequest
	r.Offsets[0] = offset
	r.NumLines = 1
	setConsumer(&r, cfg.Consumer)
	r.Config.Flags = FlagInput | FlagEdgeRising | FlagEdgeFalling | cfg.Bias.flags()
	if cfg.ActiveLow {
		r.Config.Flags |= FlagActiveLow
	}
	if cfg.Debounce > 0 {
		r.Config.Attrs[0] = lineConfigAttribute{
			Attr: lineAttribute{ID: attrDebounce, Value: uint64(cfg.Debounce / time.Microsecond)},
			Mask: 1,
		}
		r.Config.NumAttrs = 1
	}
	return r
}

// OutputConfig configures LED lines.
type OutputConfig struct {
	Consumer  string // "" means "hark"
	ActiveLow bool   // LED lit when the line is low (LED to 3.3 V)
	OpenDrain bool
}

func buildOutputRequest(offsets []uint32, cfg OutputConfig) (lineRequest, error) {
	var r lineRequest
	if len(offsets) == 0 || len(offsets) > linesMax {
		return r, fmt.Errorf("gpio: %d output lines requested; 1 to %d allowed", len(offsets), linesMax)
	}
	copy(r.Offsets[:], offsets)
	r.NumLines = uint32(len(offsets))
	setConsumer(&r, cfg.Consumer)
	r.Config.Flags = FlagOutput
	if cfg.ActiveLow {
		r.Config.Flags |= FlagActiveLow
	}
	if cfg.OpenDrain {
		r.Config.Flags |= FlagOpenDrain
	}
	// All outputs start inactive (LEDs off).
	r.Config.Attrs[0] = lineConfigAttribute{
		Attr: lineAttribute{ID: attrOutputValues, Value: 0},
		Mask: 1<<len(offsets) - 1,
	}
	r.Config.NumAttrs = 1
	return r, nil
}

func setConsumer(r *lineRequest, c string) {
	if c == "" {
		c = "hark"
	}
	copy(r.Consumer[:maxNameSize-1], c)
}
