package relay_test

import (
	"sort"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestClusterHopFigure measures what a relay-to-relay hop adds: a talker
// at relay A, one listener at A and one at B; for each frame, the time it
// reached the listener at B less the time it reached the one at A (both
// read by goroutines of their own as frames arrive). It is a figure, not
// an assertion (the machine's load decides it): run
//
//	go test -run TestClusterHopFigure -v ./internal/relay
func TestClusterHopFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("a figure")
	}
	const frames = 500
	nodes := relaytest.StartCluster(t, 3, relaytest.Open())
	talker := nodes[0].Dial(t, "talker", "")
	near := nodes[0].Dial(t, "near", "")
	far := nodes[1].Dial(t, "far", "")
	for _, c := range []*relaytest.Client{talker, near, far} {
		c.Join(t, "ops") // open channel: no floor round trip
	}
	var rf roster
	waitOnline(t, far, &rf, "talker", talker.Session())
	// Warm up until the far relay listens to the channel.
	warm := time.Now().Add(relaytest.WaitTimeout)
	for seq := uint16(0); ; seq++ {
		if time.Now().After(warm) {
			t.Fatalf("relay B did not pass on relay A's frames within %v", relaytest.WaitTimeout)
		}
		talker.SendVoice(proto.VoiceHeader{Channel: 2, Seq: seq, Duration: 960}, []byte{0})
		near.RecvRaw(t)
		select {
		case <-time.After(20 * time.Millisecond):
			continue
		case <-farVoice(far):
		}
		break
	}
	drain := func(c *relaytest.Client) {
		for c.VoicePending() > 0 {
			c.RecvRaw(t)
		}
	}
	drain(near)
	drain(far)
	at := func(c *relaytest.Client, out map[uint16]time.Time, done chan struct{}) {
		defer close(done)
		for len(out) < frames {
			h, _ := c.RecvVoice(t)
			if h.Seq >= 1000 {
				out[h.Seq] = time.Now()
			}
		}
	}
	tNear, tFar := map[uint16]time.Time{}, map[uint16]time.Time{}
	dn, df := make(chan struct{}), make(chan struct{})
	go at(near, tNear, dn)
	go at(far, tFar, df)
	tick := time.NewTicker(5 * time.Millisecond)
	for i := uint16(0); i < frames; i++ {
		<-tick.C
		talker.SendVoice(proto.VoiceHeader{Channel: 2, Seq: 1000 + i, Duration: 960}, make([]byte, 80))
	}
	tick.Stop()
	<-dn
	<-df
	var d []time.Duration
	for seq, tn := range tNear {
		if tf, ok := tFar[seq]; ok {
			d = append(d, tf.Sub(tn))
		}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[int(p*float64(len(d)-1))] }
	t.Logf("relay-to-relay hop on loopback, %d frames of 80 bytes every 5 ms: extra latency p50 %v, p90 %v, p99 %v, max %v",
		len(d), q(0.5).Round(time.Microsecond), q(0.9).Round(time.Microsecond), q(0.99).Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))

	// A push-to-talk floor taken through the cluster: FloorRequest to
	// FloorGrant at relay A (a JetStream compare-and-set on three copies).
	talker.Join(t, "lobby")
	var g []time.Duration
	for i := 0; i < 50; i++ {
		start := time.Now()
		talker.MustSend(t, &proto.FloorRequest{Channel: 1})
		relaytest.Wait(t, talker, func(m *proto.FloorGrant) bool { return m.Channel == 1 })
		g = append(g, time.Since(start))
		talker.MustSend(t, &proto.FloorRelease{Channel: 1})
		relaytest.Wait(t, talker, func(m *proto.Talking) bool { return m.Session == talker.Session() && !m.Talking })
	}
	sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
	t.Logf("floor request to grant through the cluster, 50 presses: p50 %v, p90 %v, max %v",
		g[25].Round(time.Microsecond), g[45].Round(time.Microsecond), g[49].Round(time.Microsecond))
}

// farVoice returns a channel closed when c has a datagram waiting.
func farVoice(c *relaytest.Client) <-chan struct{} {
	ch := make(chan struct{})
	if c.VoicePending() > 0 {
		close(ch)
	}
	return ch
}
