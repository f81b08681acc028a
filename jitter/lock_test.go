package jitter

import (
	"testing"
	"time"
)

// TestCallbacksRunOutsideTheLock: the WithDurationFunc and WithFECProbe
// functions are caller code and must run without the buffer's mutex held
// (they may call back into the buffer).
func TestCallbacksRunOutsideTheLock(t *testing.T) {
	var b *Buffer
	var durCalls, probeCalls, locked int
	free := func() bool {
		if !b.mu.TryLock() {
			locked++
			return false
		}
		b.mu.Unlock()
		return true
	}
	b = New(
		WithDurationFunc(func([]byte) (int, error) { durCalls++; free(); return 960, nil }),
		WithFECProbe(func([]byte) bool { probeCalls++; free(); return true }),
	)
	t0 := time.Unix(1_700_000_000, 0)
	for i := 0; i < 5; i++ {
		if i == 2 {
			continue // a loss, so Next has an FEC choice to make
		}
		b.Push(Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Start: i == 0, Payload: []byte{1},
			Arrival: t0.Add(time.Duration(i+1) * 20 * time.Millisecond)})
		b.Push(Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Payload: []byte{1},
			Arrival: t0.Add(time.Duration(i+1) * 20 * time.Millisecond)}) // duplicate
	}
	for i := 0; i < 20; i++ {
		b.Next(t0.Add(time.Duration(i)*20*time.Millisecond), 960)
	}
	if durCalls == 0 || probeCalls == 0 {
		t.Fatalf("callbacks not called (duration %d, probe %d)", durCalls, probeCalls)
	}
	if locked != 0 {
		t.Fatalf("%d of %d callback calls ran with the buffer's mutex held", locked, durCalls+probeCalls)
	}
}
