//go:build linux

package ptt

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl numbers from linux/input.h: _IOC(dir, 'E', nr, size).
func evIOC(dir, nr, size uintptr) uintptr { return dir<<30 | size<<16 | 'E'<<8 | nr }

const keyBitmapBytes = (keyMax + 8) / 8 // 96

var (
	eviocgrab    = evIOC(1, 0x90, 4)                    // EVIOCGRAB = _IOW('E', 0x90, int)
	eviocgname   = evIOC(2, 0x06, 256)                  // EVIOCGNAME(256)
	eviocgkey    = evIOC(2, 0x18, keyBitmapBytes)       // EVIOCGKEY(96)
	eviocgbitKey = evIOC(2, 0x20+EvKey, keyBitmapBytes) // EVIOCGBIT(EV_KEY, 96)
)

type evdevDev struct{ *os.File }

func openEvdev(path string) (evdevFile, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("%w (reading input devices needs root or the \"input\" group: sudo usermod -aG input $USER, then log in again)", err)
		}
		return nil, err
	}
	return evdevDev{f}, nil
}

func (d evdevDev) ioctl(req uintptr, arg unsafe.Pointer) error {
	sc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := sc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (d evdevDev) name() (string, error) {
	var b [256]byte
	if err := d.ioctl(eviocgname, unsafe.Pointer(&b[0])); err != nil {
		return "", err
	}
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), nil
		}
	}
	return string(b[:]), nil
}

func (d evdevDev) bits(req uintptr, code uint16) (bool, error) {
	var b [keyBitmapBytes]byte
	if err := d.ioctl(req, unsafe.Pointer(&b[0])); err != nil {
		return false, err
	}
	return b[code/8]&(1<<(code%8)) != 0, nil
}

func (d evdevDev) hasKey(code uint16) (bool, error)  { return d.bits(eviocgbitKey, code) }
func (d evdevDev) keyDown(code uint16) (bool, error) { return d.bits(eviocgkey, code) }

func (d evdevDev) grab() error {
	sc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var errno unix.Errno
	if err := sc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, eviocgrab, 1)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}
