package relay

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFanoutHistory is BenchmarkFanout (one talker, 49 listeners, no
// QUIC) with the channel's history off and voice: with voice every frame is
// handed to the recorder, which runs (with the store's writer) on other
// goroutines, one 1 s transmission per 50 frames committed to SQLite. It
// reports the process's CPU time per frame (all goroutines) besides the
// wall time of the voice path.
func BenchmarkFanoutHistory(b *testing.B) {
	for _, mode := range []string{"off", "voice"} {
		b.Run("history="+mode, func(b *testing.B) {
			cert, err := certs.InMemory()
			if err != nil {
				b.Fatal(err)
			}
			st, err := store.Open(filepath.Join(b.TempDir(), store.FileName), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Import("", filepath.Join(b.TempDir(), "none.json"), false); err != nil {
				b.Fatal(err)
			}
			if _, err := st.SetChannel("lobby", "history="+mode+" max-count=none max-bytes=none max-age=none"); err != nil {
				b.Fatal(err)
			}
			r, err := New(Config{Cert: cert, Open: true, VoiceRate: 1e9, VoiceBurst: 1e9, History: st})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { r.hist.rec.run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			ch := r.channels[0]
			var ss []*session
			for i := range 50 {
				s := &session{r: r, id: uint32(i + 1), name: "s"}
				s.ctl.init()
				s.voice.init(64)
				s.ch = ch
				ss = append(ss, s)
				r.sessions[s.id] = s
			}
			ch.members = ss
			talker := ss[0]
			payload := make([]byte, 80)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				var fl proto.VoiceFlags
				switch i % 50 {
				case 0:
					fl = proto.FlagStart
				case 49:
					fl = proto.FlagEnd
				}
				// A fresh slice per frame, as quic-go hands out (the
				// recorder reads the payload later).
				buf := proto.AppendVoice(make([]byte, 0, 112), proto.VoiceHeader{Flags: fl, Channel: ch.info.ID, Seq: uint16(i), Timestamp: uint32(960 * i), Duration: 960}, payload)
				r.handleVoice(talker, buf)
				for _, s := range ss[1:] {
					s.voice.pop()
				}
			}
			// The recorder and the writer finish their share of the work.
			for len(r.hist.rec.q) > 0 {
				time.Sleep(time.Millisecond)
			}
			st.WaitCommitted(context.Background(), st.LastID())
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/frame")
			b.ReportMetric(float64(r.HistoryStats().VoiceDropped), "dropped")
			if mode == "voice" {
				// Disk per hour of talk (80-byte packets every 20 ms, 32 kb/s).
				_, size, err := st.HistoryStats()
				if err != nil {
					b.Fatal(err)
				}
				talk := time.Duration(b.N) * 20 * time.Millisecond
				b.ReportMetric(float64(size)/talk.Hours()/1e6, "disk-MB/hour")
			}
		})
	}
}
