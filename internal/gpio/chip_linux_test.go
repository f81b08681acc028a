//go:build linux

package gpio

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenChipErrors(t *testing.T) {
	if _, err := OpenChip("/dev/null"); err == nil || !strings.Contains(err.Error(), "not a GPIO chip") {
		t.Fatalf("OpenChip(/dev/null) = %v", err)
	}
	if _, err := OpenChip(filepath.Join(t.TempDir(), "gpiochip9")); err == nil {
		t.Fatal("no error for a missing chip")
	}
	if _, err := OpenChip("no-such-label"); err == nil {
		t.Fatal("no error for an unknown label")
	} else {
		t.Log(err)
	}
}

// TestRealChip only lists what it finds; it needs a machine with GPIO.
func TestRealChip(t *testing.T) {
	paths, _ := filepath.Glob("/dev/gpiochip*")
	if len(paths) == 0 {
		t.Skip("skipping: no /dev/gpiochip* on this machine")
	}
	for _, p := range paths {
		c, err := OpenChip(p)
		if err != nil {
			if os.IsPermission(err) {
				t.Skip(err)
			}
			t.Fatal(err)
		}
		t.Logf("%s: %s %q, %d lines", p, c.Name, c.Label, c.Lines)
		c.Close()
	}
}
