package ptt

import (
	"context"
	"math"
	"testing"

	"github.com/hark-intercom/hark/internal/vad"
)

func TestVADSource(t *testing.T) {
	v := NewVAD(vad.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	ch, errc := runSource(t, ctx, v)
	frame := make([]int16, 480)
	quiet := func(n int) {
		for i := 0; i < n; i++ {
			for j := range frame {
				frame[j] = int16(50 * math.Sin(float64(j*7+i)))
			}
			if v.Feed(frame) {
				return
			}
		}
	}
	loud := func(n int) (opened int) {
		opened = -1
		for i := 0; i < n; i++ {
			for j := range frame {
				frame[j] = int16(5000 * math.Sin(2*math.Pi*200*float64(i*480+j)/48000))
			}
			if v.Feed(frame) && opened < 0 {
				opened = i
			}
		}
		return opened
	}
	quiet(100)
	if at := loud(50); at != 1 {
		t.Fatalf("gate opened after %d frames of voice, want the second", at)
	}
	expect(t, ch, true)
	closedAfter := 0
	for i := 0; i < 100; i++ {
		for j := range frame {
			frame[j] = int16(50 * math.Sin(float64(j*7+i)))
		}
		if !v.Feed(frame) {
			closedAfter = i
			break
		}
	}
	if closedAfter != 30 {
		t.Fatalf("gate closed %d frames after the voice ended, want 30 (300 ms hangover)", closedAfter)
	}
	expect(t, ch, false)
	if f := v.Features(); f.Open {
		t.Fatal("features say open")
	}
	loud(5)
	expect(t, ch, true)
	cancel()
	expect(t, ch, false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
