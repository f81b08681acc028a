//go:build linux

package ptt

import "github.com/hark-intercom/hark/internal/gpio"

// GPIOLine returns an Open function for Button that requests line (a
// number or a name such as "GPIO17") on chip ("gpiochip0", a path or a
// label) with cfg.
func GPIOLine(chip, line string, cfg gpio.InputConfig) func() (gpio.Input, error) {
	return func() (gpio.Input, error) {
		c, err := gpio.OpenChip(chip)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		off, err := c.FindLine(line)
		if err != nil {
			return nil, err
		}
		return c.RequestInput(off, cfg)
	}
}
