package relay

import (
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
)

// BenchmarkFanout measures the relay's own work for one voice frame in a
// channel of 50 (parse, floor check, 49 queue pushes), without QUIC. The
// listeners' queues are drained as they would be by their senders.
func BenchmarkFanout(b *testing.B) {
	cert, err := certs.InMemory()
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(Config{Cert: cert, Open: true, VoiceRate: 1e9, VoiceBurst: 1e9})
	if err != nil {
		b.Fatal(err)
	}
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
	ch.setMembers(ss)
	frame := proto.AppendVoice(nil, proto.VoiceHeader{Flags: proto.FlagStart, Channel: ch.info.ID, Duration: 960}, make([]byte, 80))
	talker := ss[0]
	r.handleVoice(talker, append([]byte(nil), frame...))
	proto.PutFlags(frame, 0)
	buf := make([]byte, len(frame))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		copy(buf, frame)
		r.handleVoice(talker, buf)
		for _, s := range ss[1:] {
			s.voice.pop()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/49, "ns/listener")
}
