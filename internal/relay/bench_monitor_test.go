package relay

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
)

// BenchmarkFanoutMonitors measures the relay's work per forwarded frame
// with 200 sessions in 4 open channels (50 each), one talker per channel
// on its own goroutine, when none or 20 % of the sessions monitor the 3
// other channels (issue 13's figure). Without QUIC, as
// BenchmarkFanoutTalkers. ns/frame is per incoming frame, ns/copy per
// copy handed to a listener's queue.
func BenchmarkFanoutMonitors(b *testing.B) {
	for _, pct := range []int{0, 20} {
		b.Run(fmt.Sprintf("monitoring=%d%%", pct), func(b *testing.B) {
			cert, err := certs.InMemory()
			if err != nil {
				b.Fatal(err)
			}
			var list []accounts.Channel
			for i := range 4 {
				list = append(list, accounts.Channel{Name: fmt.Sprintf("c%d", i), Mode: proto.ModeOpen})
			}
			r, err := New(Config{Cert: cert, Open: true, VoiceRate: 1e9, VoiceBurst: 1e9,
				Channels: accounts.Channels{List: list, Default: "c0"}})
			if err != nil {
				b.Fatal(err)
			}
			members := make([][]*session, 4)
			var all []*session
			for i := range 200 {
				s := &session{r: r, id: uint32(i + 1), name: "s", features: proto.FeatureMonitor, log: slog.New(slog.DiscardHandler)}
				s.ctl.init()
				s.voice.init(64)
				s.ch = r.channels[i%4]
				members[i%4] = append(members[i%4], s)
				all = append(all, s)
				r.sessions[s.id] = s
			}
			for i, m := range members {
				r.channels[i].setMembers(m)
			}
			r.mu.Lock()
			for i, s := range all[4:] { // not the talkers
				if i%100 < pct {
					var others []string
					for _, ch := range r.channels {
						if ch != s.ch {
							others = append(others, ch.info.Name)
						}
					}
					r.monitorLocked(s, others)
				}
			}
			r.mu.Unlock()
			copies := 0
			for _, ch := range r.channels {
				copies += len(ch.listeners) - 1
			}
			for i := range 4 {
				r.handleVoice(all[i], proto.AppendVoice(nil, proto.VoiceHeader{Flags: proto.FlagStart, Channel: all[i].ch.info.ID, Duration: 960}, make([]byte, 72)))
			}
			var next atomic.Int32
			b.SetParallelism(4)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				talker := all[int(next.Add(1)-1)%4]
				frame := proto.AppendVoice(nil, proto.VoiceHeader{Channel: talker.ch.info.ID, Duration: 960}, make([]byte, 72))
				buf := make([]byte, len(frame))
				for pb.Next() {
					copy(buf, frame)
					r.handleVoice(talker, buf)
				}
			})
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/frame")
			b.ReportMetric(ns/(float64(copies)/4), "ns/copy")
		})
	}
}
