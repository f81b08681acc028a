package store

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTexts stores channel texts through the write queue as the relay
// does (each committed, synchronous=FULL, before its done runs) and reports
// texts stored per second.
func BenchmarkTexts(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), FileName), Options{Queue: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixMilli()
	done := make(chan struct{}, b.N)
	b.ResetTimer()
	for i := range b.N {
		for {
			_, err := s.AddItem(Item{Kind: KindText, Time: now, From: "alice", Channel: "lobby", Text: "a text of an ordinary length, say sixty characters", ClientID: uint64(i + 1)},
				nil, func(uint64, error) { done <- struct{}{} })
			if err == nil {
				break
			}
			time.Sleep(time.Millisecond) // queue full: the benchmark outruns the disk
		}
	}
	for range b.N {
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "texts/s")
	b.ReportMetric(float64(s.Stats().Batches), "commits")
}

// BenchmarkTextLatency stores one text at a time, each waiting for its
// commit (a relay with one sender): ns/op is the time to an acknowledgement.
func BenchmarkTextLatency(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), FileName), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UnixMilli()
	for i := range b.N {
		if _, err := s.AddItemNow(Item{Kind: KindText, Time: now, From: "alice", Channel: "lobby", Text: "one at a time", ClientID: uint64(i + 1)}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
