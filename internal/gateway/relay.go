package gateway

import (
	"context"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// RelaySession is one logged-in session at the relay, as the gateway uses it.
// The real implementation wraps internal/client (see ClientDialer); tests use
// a fake. Implementations must be safe for concurrent use. Errors follow
// internal/client: *client.AuthError, *client.BusyError, *client.RelayError.
type RelaySession interface {
	// Welcome returns what the relay said when it accepted the login.
	Welcome() proto.Welcome
	// Channel returns the channel the session is in; ok is false when in none.
	Channel() (ch proto.ChannelInfo, ok bool)
	// Join moves the session to a channel and waits for the relay's answer.
	Join(ctx context.Context, channel string) (proto.ChannelInfo, error)
	// Talk asks for the floor and waits for the answer: a *client.BusyError
	// names the holder when someone else has it.
	Talk(ctx context.Context) (RelayTx, error)
	// Page takes the floor of every channel at once (the page role is
	// needed: the relay answers others with a *client.RelayError,
	// CodeForbidden). Pages go over anyone talking.
	Page(ctx context.Context) (RelayTx, error)
	// Text sends text to the channel (to == "") or to one user.
	Text(ctx context.Context, to, text string) error
	// Ring rings every station.
	Ring(ctx context.Context, text string) error
	// Events delivers the relay's messages (presence, talking, text, ring,
	// page, joined, errors, bye) and link state changes, in order. It is
	// closed when the session has ended for good.
	Events() <-chan RelayEvent
	// Voice delivers voice frames from the relay. The payload belongs to the
	// receiver. Frames are dropped, not queued without bound, if the
	// receiver is slow.
	Voice() <-chan VoiceFrame
	// Close ends the session.
	Close() error
}

// RelayTx is a transmission on the air (the floor is held).
//
// It is the push-to-talk floor's transmission (client.FloorTx): Send
// queues one Opus packet and never blocks; End closes the transmission
// (end flag, floor release).
type RelayTx = client.FloorTx

// RelayEvent is a message from the relay or a change of the link.
type RelayEvent struct {
	// Msg is a relay message, or nil for a link change.
	Msg proto.Message
	// Link is set when Msg is nil.
	Link LinkState
	// Text explains a link change for a person.
	Text string
	// Err is why the link went down (LinkReconnecting), when known.
	Err error
}

// LinkState is the state of a session's connection to the relay.
type LinkState int

// Link states.
const (
	LinkUp           LinkState = iota + 1 // connected and logged in (again)
	LinkReconnecting                      // lost; the client is trying again
)

// VoiceFrame is one received voice datagram.
type VoiceFrame struct {
	Header proto.VoiceHeader
	Opus   []byte
	// Arrival is when the datagram was received; zero means when the
	// channel's hub takes it (the hub's jitter buffer measures the
	// network from it).
	Arrival time.Time
}

// Dialer logs a user in at the relay and joins channel ("" for the relay's
// default).
type Dialer interface {
	Dial(ctx context.Context, name, password, channel string) (RelaySession, error)
}

// DialerFunc adapts a function to Dialer.
type DialerFunc func(ctx context.Context, name, password, channel string) (RelaySession, error)

// Dial implements Dialer.
func (f DialerFunc) Dial(ctx context.Context, name, password, channel string) (RelaySession, error) {
	return f(ctx, name, password, channel)
}
