package relay

import (
	"sync/atomic"
	"testing"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
)

// BenchmarkFanoutTalkers measures the relay's own work per forwarded copy
// with 4 talkers in one open channel of 200, each talker on its own
// goroutine (as each talker's datagrams are read by its own): parse, floor
// control or the pass, 199 queue pushes. Without QUIC (listeners have no
// connection, so every copy is queued; full queues drop their oldest).
// Run with -cpu 1,2 to see whether talkers fan out in parallel.
func BenchmarkFanoutTalkers(b *testing.B) {
	cert, err := certs.InMemory()
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, VoiceRate: 1e9, VoiceBurst: 1e9,
		Channels: accounts.Channels{List: []accounts.Channel{{Name: "all", Mode: proto.ModeOpen}}, Default: "all"}})
	if err != nil {
		b.Fatal(err)
	}
	ch := r.channels[0]
	var ss []*session
	for i := range 200 {
		s := &session{r: r, id: uint32(i + 1), name: "s"}
		s.ctl.init()
		s.voice.init(64)
		s.ch = ch
		ss = append(ss, s)
		r.sessions[s.id] = s
	}
	ch.setMembers(ss)
	const talkers = 4
	for i := range talkers {
		r.handleVoice(ss[i], proto.AppendVoice(nil, proto.VoiceHeader{Flags: proto.FlagStart, Channel: ch.info.ID, Duration: 960}, make([]byte, 72)))
	}
	var next atomic.Int32
	b.SetParallelism(talkers)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		talker := ss[int(next.Add(1)-1)%talkers]
		frame := proto.AppendVoice(nil, proto.VoiceHeader{Channel: ch.info.ID, Duration: 960}, make([]byte, 72))
		buf := make([]byte, len(frame))
		for pb.Next() {
			copy(buf, frame)
			r.handleVoice(talker, buf)
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/199, "ns/copy")
}
