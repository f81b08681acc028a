package gpio

import (
	"encoding/binary"
	"testing"
	"time"
	"unsafe"
)

// The numbers below come from linux/gpio.h (checked with a C program
// printing sizeof/offsetof and the ioctl macros, Linux 6.1 headers).
func TestABILayout(t *testing.T) {
	var r lineRequest
	var c lineConfig
	var li lineInfo
	var a lineAttribute
	var ca lineConfigAttribute
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof gpiochip_info", unsafe.Sizeof(chipInfo{}), 68},
		{"sizeof gpio_v2_line_attribute", unsafe.Sizeof(a), 16},
		{"offsetof attribute union", unsafe.Offsetof(a.Value), 8},
		{"sizeof gpio_v2_line_config_attribute", unsafe.Sizeof(ca), 24},
		{"offsetof config_attribute.mask", unsafe.Offsetof(ca.Mask), 16},
		{"sizeof gpio_v2_line_config", unsafe.Sizeof(c), 272},
		{"offsetof config.num_attrs", unsafe.Offsetof(c.NumAttrs), 8},
		{"offsetof config.attrs", unsafe.Offsetof(c.Attrs), 32},
		{"sizeof gpio_v2_line_request", unsafe.Sizeof(r), 592},
		{"offsetof request.consumer", unsafe.Offsetof(r.Consumer), 256},
		{"offsetof request.config", unsafe.Offsetof(r.Config), 288},
		{"offsetof request.num_lines", unsafe.Offsetof(r.NumLines), 560},
		{"offsetof request.event_buffer_size", unsafe.Offsetof(r.EventBufferSize), 564},
		{"offsetof request.fd", unsafe.Offsetof(r.Fd), 588},
		{"sizeof gpio_v2_line_values", unsafe.Sizeof(lineValues{}), 16},
		{"sizeof gpio_v2_line_info", unsafe.Sizeof(li), 256},
		{"offsetof info.offset", unsafe.Offsetof(li.Offset), 64},
		{"offsetof info.num_attrs", unsafe.Offsetof(li.NumAttrs), 68},
		{"offsetof info.flags", unsafe.Offsetof(li.Flags), 72},
		{"offsetof info.attrs", unsafe.Offsetof(li.Attrs), 80},
		{"GPIO_GET_CHIPINFO_IOCTL", ioctlGetChipInfo, 0x8044b401},
		{"GPIO_V2_GET_LINEINFO_IOCTL", ioctlGetLineInfo, 0xc100b405},
		{"GPIO_V2_GET_LINE_IOCTL", ioctlGetLine, 0xc250b407},
		{"GPIO_V2_LINE_SET_CONFIG_IOCTL", ioctlSetConfig, 0xc110b40d},
		{"GPIO_V2_LINE_GET_VALUES_IOCTL", ioctlGetValues, 0xc010b40e},
		{"GPIO_V2_LINE_SET_VALUES_IOCTL", ioctlSetValues, 0xc010b40f},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %#x, kernel ABI says %#x", c.name, c.got, c.want)
		}
	}
}

func TestBuildInputRequest(t *testing.T) {
	r := buildInputRequest(17, InputConfig{ActiveLow: true, Bias: BiasPullUp, Debounce: 15 * time.Millisecond})
	if r.Offsets[0] != 17 || r.NumLines != 1 {
		t.Fatalf("offsets %v num %d", r.Offsets[:2], r.NumLines)
	}
	want := FlagInput | FlagEdgeRising | FlagEdgeFalling | FlagBiasPullUp | FlagActiveLow
	if r.Config.Flags != want {
		t.Fatalf("flags %#x want %#x", r.Config.Flags, want)
	}
	if r.Config.NumAttrs != 1 || r.Config.Attrs[0].Attr.ID != attrDebounce || r.Config.Attrs[0].Mask != 1 {
		t.Fatalf("debounce attr %+v", r.Config.Attrs[0])
	}
	// The kernel reads debounce_period_us as the first u32 of the union.
	raw := (*[592]byte)(unsafe.Pointer(&r))
	attrUnion := 288 + 32 + 8
	if us := binary.LittleEndian.Uint32(raw[attrUnion:]); us != 15000 {
		t.Fatalf("debounce_period_us in request bytes = %d", us)
	}
	if got := cString(r.Consumer[:]); got != "hark" {
		t.Fatalf("consumer %q", got)
	}
	if r := buildInputRequest(3, InputConfig{}); r.Config.NumAttrs != 0 {
		t.Fatal("debounce attribute without debounce")
	}
}

func TestBuildOutputRequest(t *testing.T) {
	r, err := buildOutputRequest([]uint32{5, 6, 13, 19}, OutputConfig{Consumer: "hark-leds"})
	if err != nil {
		t.Fatal(err)
	}
	if r.NumLines != 4 || r.Offsets[2] != 13 || r.Config.Flags != FlagOutput {
		t.Fatalf("%+v", r.Config)
	}
	if a := r.Config.Attrs[0]; a.Attr.ID != attrOutputValues || a.Mask != 0xf || a.Attr.Value != 0 {
		t.Fatalf("output values attr %+v", a)
	}
	if _, err := buildOutputRequest(nil, OutputConfig{}); err == nil {
		t.Fatal("no error for zero lines")
	}
	all := make([]uint32, 64)
	if r, err := buildOutputRequest(all, OutputConfig{}); err != nil || r.Config.Attrs[0].Mask != ^uint64(0) {
		t.Fatalf("64 lines: %v mask %#x", err, r.Config.Attrs[0].Mask)
	}
}

func TestDecodeLineEvent(t *testing.T) {
	b := make([]byte, LineEventSize)
	binary.LittleEndian.PutUint64(b[0:], 123456789012)
	binary.LittleEndian.PutUint32(b[8:], EventFallingEdge)
	binary.LittleEndian.PutUint32(b[12:], 17)
	binary.LittleEndian.PutUint32(b[16:], 42)
	binary.LittleEndian.PutUint32(b[20:], 7)
	e, err := DecodeLineEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	want := LineEvent{Timestamp: 123456789012, ID: EventFallingEdge, Offset: 17, Seqno: 42, LineSeqno: 7}
	if e != want || e.Rising() {
		t.Fatalf("got %+v want %+v", e, want)
	}
	if _, err := DecodeLineEvent(b[:47]); err == nil {
		t.Fatal("short event accepted")
	}
	binary.LittleEndian.PutUint32(b[8:], 9)
	if _, err := DecodeLineEvent(b); err == nil {
		t.Fatal("unknown event id accepted")
	}
}

func FuzzDecodeLineEvent(f *testing.F) {
	f.Add(make([]byte, 48))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeLineEvent(b)
		if err == nil && e.ID != EventRisingEdge && e.ID != EventFallingEdge {
			t.Fatal("bad id accepted")
		}
	})
}
