package ptt

import (
	"fmt"
	"io"
	"os"

	"github.com/muesli/cancelreader"
	"golang.org/x/term"
)

// TerminalInput is a terminal in raw mode, for Terminal.In.
type TerminalInput struct {
	cancelreader.CancelReader
	fd    int
	state *term.State
}

// OpenTerminal puts f (normally os.Stdin) into raw mode: keys arrive one by
// one without echo, and Ctrl-C arrives as a key instead of a signal. Output
// is raw too: write "\r\n" for a new line. Call Restore before exiting.
func OpenTerminal(f *os.File) (*TerminalInput, error) {
	fd := int(f.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("push-to-talk from the keyboard needs a terminal, and %s is not one (use --ptt evdev or gpio, or run in a terminal)", f.Name())
	}
	st, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("cannot switch the terminal to raw mode: %w", err)
	}
	cr, err := cancelreader.NewReader(f)
	if err != nil {
		_ = term.Restore(fd, st)
		return nil, err
	}
	return &TerminalInput{CancelReader: cr, fd: fd, state: st}, nil
}

// Restore puts the terminal back as it was and releases the reader.
func (t *TerminalInput) Restore() error {
	t.CancelReader.Cancel()
	t.CancelReader.Close()
	return term.Restore(t.fd, t.state)
}

var _ io.Reader = (*TerminalInput)(nil)
