package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func TestChannelsJSON(t *testing.T) {
	c, err := accounts.ParseChannels([]byte(ChannelsJSON(120, 50, 3)))
	if err != nil || len(c.List) != 3 || c.List[2].Name != ChannelName(2) || c.List[0].Mode != proto.ModePTT {
		t.Fatalf("%+v %v", c, err)
	}
	c, _ = accounts.ParseChannels([]byte(ChannelsJSON(50, 50, 2)))
	if c.List[0].Mode != proto.ModeOpen {
		t.Fatalf("two talkers in one channel need an open channel: %+v", c)
	}
}

func TestRunSmall(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: ChannelName(0)}, accounts.Channel{Name: ChannelName(1)}))
	res, err := Run(context.Background(), Config{
		Addr: r.Addr, Fingerprint: r.Fingerprint, Sessions: 8, Talkers: 2, Group: 4,
		Duration: 300 * time.Millisecond, PID: os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Channels != 2 || res.FramesSent == 0 || res.Expected != res.FramesSent*3 || res.Delivered == 0 || res.Delivered > res.Expected || res.LatencyP50 <= 0 || res.RSSBefore == 0 {
		t.Fatalf("%+v", res)
	}
	// Every delivered frame came in a packet the listeners counted.
	if res.Packets == 0 {
		t.Fatalf("no packets counted for %d delivered frames: %+v", res.Delivered, res)
	}
}

// A relay that admits fewer logins at once than the tool makes (a relay
// pinned to one core admits 16, the tool makes 32) refuses the rest before
// the handshake; the tool tries them again instead of failing the run.
func TestRunRetriesRefusedLogins(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: ChannelName(0)}),
		relaytest.Configure(func(c *relay.Config) { c.MaxLogins = 1; c.LoginPlaceTime = time.Hour }))
	// A connection that never logs in holds the one place.
	qc, err := quic.DialAddr(context.Background(), r.Addr, r.ClientTLS(), &quic.Config{EnableDatagrams: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.CloseWithError(0, "")
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := Run(context.Background(), Config{
			Addr: r.Addr, Fingerprint: r.Fingerprint, Sessions: 4, Talkers: 1, Group: 4, Connectors: 4,
			Duration: 100 * time.Millisecond,
		})
		done <- result{res, err}
	}()
	r.WaitStats(t, "a refused login", func(s relay.Stats) bool { return s.ConnRefused["busy"] > 0 })
	qc.CloseWithError(0, "")
	got := <-done
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.res.Sessions != 4 {
		t.Errorf("%d sessions logged in, want 4", got.res.Sessions)
	}
}
