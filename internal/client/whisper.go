package client

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/hark-intercom/hark/proto"
)

// Calls (proto.WhisperStart): hold to talk to one user alone. The frames of
// a call this client hears reach Config.OnVoice with Channel
// proto.WhisperChannel; a proto.Whisper event says when a call to or from
// this client starts and ends (who calls whom).

// ErrWhisperUnsupported: the relay cannot make calls.
var ErrWhisperUnsupported = errors.New("the relay cannot make calls to one person (it is older than this program): update the relay")

// ErrGroupCallUnsupported: the relay cannot call several people at once.
var ErrGroupCallUnsupported = errors.New("the relay cannot call several people at once (it is older than this program): call them one by one, or update the relay")

// Callees splits the to of Whisper into the names it calls: a user's name,
// a comma-separated list of them, or proto.GroupCallRole and a role
// ("role:page"). Blank entries are dropped.
func Callees(to string) []string {
	var names []string
	for n := range strings.SplitSeq(to, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// Whisper starts a call to the user named to, or to several (Callees: a
// comma-separated list, or "role:page" for everyone online with the role;
// the relay needs proto.FeatureGroupCall for those): the frames sent are
// heard by them alone. No channel floor is needed. It returns a
// *RelayError with proto.CodeNoUser when a user is not online (or cannot
// take calls), and a *BusyError when someone else is calling one of them or
// a page is on. End the call with Transmission.End.
func (c *Client) Whisper(ctx context.Context, to string) (*Transmission, error) {
	cn, err := c.current()
	if err != nil {
		return nil, err
	}
	if cn.features&proto.FeatureWhisper == 0 {
		return nil, ErrWhisperUnsupported
	}
	names := Callees(to)
	var start proto.Message = &proto.WhisperStart{To: strings.TrimSpace(to)}
	if len(names) > 1 || (len(names) == 1 && strings.HasPrefix(names[0], proto.GroupCallRole)) {
		if cn.features&proto.FeatureGroupCall == 0 {
			return nil, ErrGroupCallUnsupported
		}
		start = &proto.GroupCallStart{To: names}
	}
	if err := c.checkIdle(); err != nil {
		return nil, err
	}
	r, err := c.request(ctx, start, func(m proto.Message) bool {
		switch m := m.(type) {
		case *proto.FloorGrant:
			return m.Channel == proto.WhisperChannel
		case *proto.FloorDeny:
			return m.Channel == proto.WhisperChannel
		}
		return isErrorAbout(m, start.Type())
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

// CallParties names a Whisper's caller and callee for the person at the
// station named self, who is called you in the words ("you", "this box").
func CallParties(w *proto.Whisper, self, you string) (from, to string) {
	from, to = w.FromName, w.ToName
	if from == self {
		from = you
	}
	if to == self {
		to = you
	}
	return from, to
}

// Calls follows the call to or from one station, for a front end to show
// it: a group call comes as one Whisper per callee, and ends likewise. The
// zero value is ready; not safe for concurrent use.
type Calls struct {
	from string   // the caller of the call on the air ("you"), "" when none
	to   []string // its callees ("you"), in the order they were told
}

// Apply takes a Whisper for the station named self.
func (c *Calls) Apply(w *proto.Whisper, self string) {
	from, to := CallParties(w, self, "you")
	switch {
	case w.Active:
		if c.from != from {
			c.from, c.to = from, nil
		}
		if !slices.Contains(c.to, to) {
			c.to = append(c.to, to)
		}
	case c.from == from:
		c.to = slices.DeleteFunc(c.to, func(n string) bool { return n == to })
		if len(c.to) == 0 {
			c.from = ""
		}
	}
}

// String says the call on the air: "you → bob, carol", "alice → you";
// "" when there is none.
func (c *Calls) String() string {
	if c.from == "" {
		return ""
	}
	return c.from + " → " + strings.Join(c.to, ", ")
}
