//go:build linux

package ptt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// openPTY opens a pseudo-terminal pair without external packages.
func openPTY(t *testing.T) (master, slave *os.File) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("skipping: no pseudo-terminals: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("skipping: unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("skipping: ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("skipping: opening the pty slave: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

func TestOpenTerminalRawModeAndCancel(t *testing.T) {
	master, slave := openPTY(t)
	before, err := term.GetState(int(slave.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	in, err := OpenTerminal(slave)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ch, errc := runSource(t, ctx, &Terminal{In: in, Hold: HoldConfig{Toggle: true}})
	// In raw mode the key arrives at once, without Enter.
	master.Write([]byte(" "))
	expect(t, ch, true)
	cancel() // must unblock the pending read
	expect(t, ch, false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := in.Restore(); err != nil {
		t.Fatal(err)
	}
	after, _ := term.GetState(int(slave.Fd()))
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("terminal state not restored")
	}

	// Ctrl-C arrives as a key in raw mode and ends Run.
	in, err = OpenTerminal(slave)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Restore()
	_, errc = runSource(t, t.Context(), &Terminal{In: in})
	master.Write([]byte{3})
	if err := <-errc; !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run after Ctrl-C = %v", err)
	}
}

func TestOpenTerminalNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := OpenTerminal(f); err == nil {
		t.Fatal("no error for /dev/null")
	} else {
		t.Log(err)
	}
}
