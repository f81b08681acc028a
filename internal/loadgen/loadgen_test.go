package loadgen

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
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
}
