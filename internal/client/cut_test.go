package client

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var opusSilence = []byte{0xF8, 0xFF, 0xFE}

// A talker pre-empted by a page learns it from Send and End, with the
// pager's name; the log names no "type-0".
func TestTransmissionPagedOver(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("dave", "d", proto.RolePage)
	r.AddUser("bob", "b", 0)
	ctx := testCtx(t)
	var logs logBuffer
	dave := mustDial(t, r, "dave", "d", "ops")
	bob, err := dialRelay(t, r.Addr, r.Fingerprint, "bob", "b", "lobby", func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := bob.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(opusSilence, 960); err != nil {
		t.Fatal(err)
	}
	ptx, err := dave.Page(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer ptx.End(ctx)
	// The event follows the cut.
	waitMsg(t, ctx, bob, func(m *proto.Error) bool { return m.Code == proto.CodeBusy })

	err = tx.Send(opusSilence, 960)
	var ce *CutError
	if !errors.As(err, &ce) || ce.By != "dave" || ce.TooLong {
		t.Fatalf("Send after the page: %#v", err)
	}
	var re *RelayError
	if !errors.As(err, &re) || re.Code != proto.CodeBusy || re.Text != "paged over by dave" {
		t.Errorf("the cut does not unwrap to the relay's error: %#v", re)
	}
	if want := "your transmission was cut off: dave paged everyone"; err.Error() != want {
		t.Errorf("Send after the page: %q, want %q", err, want)
	}
	if err := tx.End(ctx); !errors.As(err, &ce) {
		t.Errorf("End after the page: %v, want the cut", err)
	}
	l := logs.String()
	if strings.Contains(l, "type-0") || strings.Contains(l, "about=") {
		t.Errorf("log names a message type that is not there:\n%s", l)
	}
	if !strings.Contains(l, "paged over by dave") {
		t.Errorf("log does not say why:\n%s", l)
	}
}

// A transmission that reaches the relay's maximum length is cut, and Send
// says so.
func TestTransmissionTooLong(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Configure(func(c *relay.Config) {
		c.MaxTalk = 50 * time.Millisecond
		c.FloorTimeout, c.GrantTimeout = time.Minute, time.Minute
	}))
	ctx := testCtx(t)
	bob := mustDial(t, r, "bob", "", "lobby")
	tx, err := bob.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(opusSilence, 960); err != nil {
		t.Fatal(err)
	}
	waitMsg(t, ctx, bob, func(m *proto.Error) bool { return m.Code == proto.CodeTooLong })
	err = tx.Send(opusSilence, 960)
	var ce *CutError
	if !errors.As(err, &ce) || !ce.TooLong || ce.By != "" {
		t.Fatalf("Send after the maximum length: %#v", err)
	}
	if want := "your transmission was cut off: the relay's maximum transmission length was reached"; err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
	tx.End(ctx)
}

func TestCutErrorFromRelayWords(t *testing.T) {
	for _, c := range []struct {
		m    proto.Error
		want string // "" for no cut
	}{
		{proto.Error{Code: proto.CodeBusy, Text: "paged over by dave"}, "your transmission was cut off: dave paged everyone"},
		{proto.Error{Code: proto.CodeBusy, Text: "busy: eve is paging everyone"}, "your transmission was cut off: eve paged everyone"},
		{proto.Error{Code: proto.CodeBusy, Text: "something else"}, "your transmission was cut off: something else"},
		{proto.Error{Code: proto.CodeTooLong, Text: "x"}, "your transmission was cut off: the relay's maximum transmission length was reached"},
		{proto.Error{Code: proto.CodeBusy, About: proto.TypeFloorRequest, Text: "busy: a is talking"}, ""},
		{proto.Error{Code: proto.CodeRateLimit, Text: "slow down"}, ""},
	} {
		got := ""
		if e := cutError(&c.m); e != nil {
			got = e.Error()
		}
		if got != c.want {
			t.Errorf("cutError(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
	if got := (&RelayError{Code: proto.CodeRateLimit}).Error(); strings.Contains(got, "type-") {
		t.Errorf("RelayError without About: %q", got)
	}
}

// When End returns, the relay has the whole transmission, end frame
// included: the release on the control stream must not overtake the last
// datagrams, and a sender that exits right after End loses nothing.
func TestEndWaitsForTheRelay(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	bob := mustDial(t, r, "bob", "", "lobby")
	mustDial(t, r, "ann", "", "lobby")
	for round := 0; round < 5; round++ {
		before := r.Relay.Stats()
		tx, err := bob.Talk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const n = 25
		for i := 0; i < n; i++ {
			if err := tx.Send(opusSilence, 960); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.End(ctx); err != nil {
			t.Fatal(err)
		}
		after := r.Relay.Stats()
		if got := after.FramesIn - before.FramesIn; got != n+1 {
			t.Fatalf("round %d: the relay had %d of the %d frames when End returned", round, got, n+1)
		}
		if d := after.Dropped["no_floor"] - before.Dropped["no_floor"]; d != 0 {
			t.Fatalf("round %d: %d frames dropped for want of the floor", round, d)
		}
	}
}
