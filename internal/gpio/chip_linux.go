//go:build linux

package gpio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Chip is an open GPIO chip (/dev/gpiochipN).
type Chip struct {
	f     *os.File
	Name  string // kernel name, e.g. "gpiochip0"
	Label string // e.g. "pinctrl-bcm2711"
	Lines int
}

func ioctl(fd uintptr, req uintptr, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

// OpenChip opens a GPIO chip by path ("/dev/gpiochip0"), by name
// ("gpiochip0") or by label ("pinctrl-bcm2711").
func OpenChip(name string) (*Chip, error) {
	path := name
	if !strings.HasPrefix(name, "/") {
		path = "/dev/" + name
		if _, err := os.Stat(path); err != nil {
			p, ferr := findChipByLabel(name)
			if ferr != nil {
				return nil, ferr
			}
			path = p
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("cannot open GPIO chip %s: %w (run as root or add the user to the gpio group)", path, err)
		}
		return nil, fmt.Errorf("cannot open GPIO chip %s: %w", path, err)
	}
	var info chipInfo
	if err := ioctl(f.Fd(), ioctlGetChipInfo, unsafe.Pointer(&info)); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is not a GPIO chip: %w", path, err)
	}
	return &Chip{f: f, Name: cString(info.Name[:]), Label: cString(info.Label[:]), Lines: int(info.Lines)}, nil
}

func findChipByLabel(label string) (string, error) {
	paths, _ := filepath.Glob("/dev/gpiochip*")
	if len(paths) == 0 {
		return "", fmt.Errorf("no GPIO chip %q: this machine has no /dev/gpiochip* (not a Raspberry Pi, or GPIO not enabled)", label)
	}
	var labels []string
	for _, p := range paths {
		c, err := OpenChip(p)
		if err != nil {
			continue
		}
		c.Close()
		if c.Label == label {
			return p, nil
		}
		labels = append(labels, c.Name+" ("+c.Label+")")
	}
	return "", fmt.Errorf("no GPIO chip named or labelled %q; chips: %s", label, strings.Join(labels, ", "))
}

// Close closes the chip; requested lines stay valid until closed themselves.
func (c *Chip) Close() error { return c.f.Close() }

// FindLine returns the offset of a line given its number ("17") or its
// name as the device tree labels it ("GPIO17").
func (c *Chip) FindLine(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		if int(n) >= c.Lines {
			return 0, fmt.Errorf("GPIO chip %s has %d lines; there is no line %d", c.Name, c.Lines, n)
		}
		return uint32(n), nil
	}
	for i := 0; i < c.Lines; i++ {
		li := lineInfo{Offset: uint32(i)}
		if err := ioctl(c.f.Fd(), ioctlGetLineInfo, unsafe.Pointer(&li)); err != nil {
			return 0, fmt.Errorf("reading GPIO line %d info: %w", i, err)
		}
		if cString(li.Name[:]) == name {
			return uint32(i), nil
		}
	}
	return 0, fmt.Errorf("GPIO chip %s has no line named %q", c.Name, name)
}

func (c *Chip) request(r *lineRequest) (*os.File, error) {
	if err := ioctl(c.f.Fd(), ioctlGetLine, unsafe.Pointer(r)); err != nil {
		if errors.Is(err, unix.EBUSY) {
			return nil, fmt.Errorf("GPIO line %d on %s is already in use by another program: %w", r.Offsets[0], c.Name, err)
		}
		return nil, fmt.Errorf("requesting GPIO lines on %s: %w", c.Name, err)
	}
	// Non-blocking so that the runtime poller owns it and Close unblocks reads.
	if err := unix.SetNonblock(int(r.Fd), true); err != nil {
		unix.Close(int(r.Fd))
		return nil, err
	}
	return os.NewFile(uintptr(r.Fd), fmt.Sprintf("%s line %d", c.Name, r.Offsets[0])), nil
}

// InputLine is one requested input line with edge events.
type InputLine struct {
	f   *os.File
	buf [LineEventSize]byte // used by ReadEvent only; one reader at a time
}

var _ Input = (*InputLine)(nil)

// RequestInput requests line offset as an input with events on both edges.
// If the kernel refuses the debounce attribute (old kernels), it retries
// without it; software debounce (in package ptt) still applies.
func (c *Chip) RequestInput(offset uint32, cfg InputConfig) (*InputLine, error) {
	r := buildInputRequest(offset, cfg)
	f, err := c.request(&r)
	if err != nil && cfg.Debounce > 0 {
		cfg.Debounce = 0
		r = buildInputRequest(offset, cfg)
		f, err = c.request(&r)
	}
	if err != nil {
		return nil, err
	}
	return &InputLine{f: f}, nil
}

// Value reads the logical level.
func (l *InputLine) Value() (bool, error) {
	v := lineValues{Mask: 1}
	sc, err := l.f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ierr error
	if err := sc.Control(func(fd uintptr) { ierr = ioctl(fd, ioctlGetValues, unsafe.Pointer(&v)) }); err != nil {
		return false, err
	}
	if ierr != nil {
		return false, fmt.Errorf("reading GPIO line: %w", ierr)
	}
	return v.Bits&1 != 0, nil
}

// ReadEvent blocks for the next edge. Not for concurrent use.
func (l *InputLine) ReadEvent() (LineEvent, error) {
	if _, err := io.ReadFull(l.f, l.buf[:]); err != nil {
		return LineEvent{}, err
	}
	return DecodeLineEvent(l.buf[:])
}

// Close releases the line.
func (l *InputLine) Close() error { return l.f.Close() }

// OutputLines are requested output lines, bit i of values being offsets[i].
type OutputLines struct {
	f *os.File
}

var _ Outputs = (*OutputLines)(nil)

// RequestOutputs requests the given lines as outputs, all inactive.
func (c *Chip) RequestOutputs(offsets []uint32, cfg OutputConfig) (*OutputLines, error) {
	r, err := buildOutputRequest(offsets, cfg)
	if err != nil {
		return nil, err
	}
	f, err := c.request(&r)
	if err != nil {
		return nil, err
	}
	return &OutputLines{f: f}, nil
}

// SetValues sets the lines selected by mask.
func (o *OutputLines) SetValues(values, mask uint64) error {
	v := lineValues{Bits: values, Mask: mask}
	sc, err := o.f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := sc.Control(func(fd uintptr) { ierr = ioctl(fd, ioctlSetValues, unsafe.Pointer(&v)) }); err != nil {
		return err
	}
	if ierr != nil {
		return fmt.Errorf("setting GPIO outputs: %w", ierr)
	}
	return nil
}

// Close releases the lines (the kernel leaves them as they were).
func (o *OutputLines) Close() error { return o.f.Close() }

// OpenLEDs requests the named lines (numbers or names such as "GPIO27") on
// chip as outputs and returns LEDs driving them, LED i being lines[i], and
// the function that releases the lines. Run the LEDs with LEDs.Run.
func OpenLEDs(chip string, lines []string, cfg OutputConfig) (*LEDs, func() error, error) {
	c, err := OpenChip(chip)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	offs := make([]uint32, len(lines))
	for i, l := range lines {
		if offs[i], err = c.FindLine(l); err != nil {
			return nil, nil, err
		}
	}
	out, err := c.RequestOutputs(offs, cfg)
	if err != nil {
		return nil, nil, err
	}
	return NewLEDs(out, len(lines)), out.Close, nil
}
