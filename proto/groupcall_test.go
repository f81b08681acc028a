package proto

import (
	"errors"
	"fmt"
	"testing"
)

// TestGroupCallStartLimits: a group call names 1 to MaxCallees users; the
// encoder refuses others, and so does the parser (crafted bytes).
func TestGroupCallStartLimits(t *testing.T) {
	var many []string
	for i := range MaxCallees + 1 {
		many = append(many, fmt.Sprintf("u%d", i))
	}
	for _, to := range [][]string{nil, many} {
		if _, err := AppendMessage(nil, &GroupCallStart{To: to}); err == nil {
			t.Errorf("%d names encoded", len(to))
		}
	}
	if _, err := AppendMessage(nil, &GroupCallStart{To: many[:MaxCallees]}); err != nil {
		t.Errorf("%d names refused: %v", MaxCallees, err)
	}
	for _, body := range [][]byte{
		{0, 0},                 // nobody
		{0, MaxCallees + 1},    // too many
		{0, 3, 0, 1, 'a'},      // claims more than it holds
		{0, 1, 0, 5, 'b', 'o'}, // a name cut short
	} {
		_, err := ParseMessage(append([]byte{byte(TypeGroupCallStart)}, body...))
		if err == nil || !(errors.Is(err, ErrBadValue) || errors.Is(err, ErrTooLong) || errors.Is(err, ErrShort)) {
			t.Errorf("% x parsed: %v", body, err)
		}
	}
}
