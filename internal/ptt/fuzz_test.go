package ptt

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func FuzzEventReader(f *testing.F) {
	f.Add(keyPress(24, 0, 57, 1), 24)
	f.Add(keyPress(16, 0, 57, 0), 16)
	f.Add([]byte{1, 2, 3}, 24)
	f.Fuzz(func(t *testing.T, b []byte, size int) {
		if size != 16 && size != 24 {
			size = 24
		}
		er := NewEventReader(bytes.NewReader(b), size)
		n := 0
		for {
			_, err := er.Next()
			if err != nil {
				if err != io.EOF && err != io.ErrUnexpectedEOF {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			n++
		}
		if n != len(b)/size {
			t.Fatalf("%d events from %d bytes of %d-byte events", n, len(b), size)
		}
	})
}

func FuzzSplitKeys(f *testing.F) {
	f.Add([]byte(" a\x1b[24~\x1bOP\x03\x1bx\x1b[1;5A\r\x7fü\x1b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys := SplitKeys(b)
		total := 0
		for _, k := range keys {
			if k == "" {
				t.Fatal("empty key")
			}
			total += len(k)
		}
		if len(b) > 0 && len(keys) == 0 {
			t.Fatal("input without keys")
		}
		_ = strings.Join(keys, ",")
	})
}
