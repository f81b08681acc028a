//go:build !linux

package ptt

import "errors"

func openEvdev(path string) (evdevFile, error) {
	return nil, errors.New("input devices (evdev) exist only on Linux")
}
