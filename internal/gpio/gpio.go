package gpio

import "time"

// Input is a requested input line with edge events: the seam used by the
// push-to-talk button. *InputLine implements it.
type Input interface {
	// Value reads the current logical level (true = active).
	Value() (bool, error)
	// ReadEvent blocks until the next edge event. After Close it returns an error.
	ReadEvent() (LineEvent, error)
	// Close releases the line and unblocks ReadEvent.
	Close() error
}

// Outputs is a set of requested output lines, bit i being the i-th line of
// the request. *OutputLines implements it; tests use fakes.
type Outputs interface {
	// SetValues sets the lines selected by mask to the bits of values
	// (logical levels: 1 = active).
	SetValues(values, mask uint64) error
}

// DefaultDebounce is a debounce period that suits ordinary push buttons.
const DefaultDebounce = 10 * time.Millisecond
