package client

import (
	"context"
	"errors"

	"github.com/hark-intercom/hark/proto"
)

// Calls (proto.WhisperStart): hold to talk to one user alone. The frames of
// a call this client hears reach Config.OnVoice with Channel
// proto.WhisperChannel; a proto.Whisper event says when a call to or from
// this client starts and ends (who calls whom).

// ErrWhisperUnsupported: the relay cannot make calls.
var ErrWhisperUnsupported = errors.New("the relay cannot make calls to one person (it is older than this program): update the relay")

// Whisper starts a call to the user named to: the frames sent are heard by
// that user alone. No channel floor is needed. It returns a *RelayError
// with proto.CodeNoUser when the user is not online (or cannot take
// calls), and a *BusyError when someone else is calling them or a page is
// on. End the call with Transmission.End.
func (c *Client) Whisper(ctx context.Context, to string) (*Transmission, error) {
	cn, err := c.current()
	if err != nil {
		return nil, err
	}
	if cn.features&proto.FeatureWhisper == 0 {
		return nil, ErrWhisperUnsupported
	}
	if err := c.checkIdle(); err != nil {
		return nil, err
	}
	r, err := c.request(ctx, &proto.WhisperStart{To: to}, func(m proto.Message) bool {
		switch m := m.(type) {
		case *proto.FloorGrant:
			return m.Channel == proto.WhisperChannel
		case *proto.FloorDeny:
			return m.Channel == proto.WhisperChannel
		}
		return isErrorAbout(m, proto.TypeWhisperStart)
	}, false)
	if err != nil {
		return nil, err
	}
	switch r := r.(type) {
	case *proto.FloorDeny:
		return nil, &BusyError{Reason: r.Reason}
	case *proto.Error:
		return nil, c.errorFor(r, "call "+to)
	}
	t, err := c.newTx(r.(*proto.FloorGrant), proto.WhisperChannel, false)
	if t != nil {
		t.whisper = true
	}
	return t, err
}
