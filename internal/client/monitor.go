package client

import (
	"context"
	"errors"
	"slices"

	"github.com/hark-intercom/hark/proto"
)

// Monitoring several channels (proto.Monitor): the client talks in the
// channel it joined and also hears the channels it monitors. Their voice
// reaches Config.OnVoice with the channel's id in the header, and their
// Talking news arrive as events like the joined channel's. The set is kept
// across reconnections (sent again after each login).

// ErrMonitorUnsupported: the relay cannot forward other channels.
var ErrMonitorUnsupported = errors.New("the relay cannot let you listen to other channels (it is older than this program): update the relay")

// Monitor sets the channels to hear besides the joined one (nil or empty:
// none) and returns them as the relay knows them. A channel that does not
// exist is refused with a *RelayError naming it, and the set stays as it
// was. The set is sent again after a reconnection.
func (c *Client) Monitor(ctx context.Context, channels []string) ([]proto.ChannelInfo, error) {
	cn, err := c.current()
	if err != nil {
		return nil, err
	}
	if cn.features&proto.FeatureMonitor == 0 {
		if len(channels) == 0 {
			return nil, nil
		}
		return nil, ErrMonitorUnsupported
	}
	r, err := c.request(ctx, &proto.Monitor{Channels: channels}, func(m proto.Message) bool {
		_, ok := m.(*proto.Monitoring)
		return ok || isErrorAbout(m, proto.TypeMonitor)
	}, false)
	if err != nil {
		return nil, err
	}
	if e, ok := r.(*proto.Error); ok {
		return nil, c.errorFor(e, "listen to "+joinNames(channels))
	}
	got := r.(*proto.Monitoring).Channels
	c.mu.Lock()
	c.monitor = slices.Clone(channels)
	c.monitored = got
	c.mu.Unlock()
	return got, nil
}

// Monitored returns the channels the client monitors now, as the relay
// last confirmed them.
func (c *Client) Monitored() []proto.ChannelInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.monitored)
}

// Hears reports whether the client hears channel (by name): the one it is
// in or is to rejoin after a reconnection, or one it monitors.
func (c *Client) Hears(channel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if channel == c.channel || c.inChannel && channel == c.joined.Name {
		return true
	}
	for _, ch := range c.monitored {
		if ch.Name == channel {
			return true
		}
	}
	return false
}

// IsMonitored reports whether voice of channel id is from a monitored
// channel (not the joined one, not a page or a call).
func (c *Client) IsMonitored(id uint16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.monitored {
		if ch.ID == id {
			return true
		}
	}
	return false
}

// ChannelName returns the name of the channel with voice id id from the
// relay's channel list, or "".
func (c *Client) ChannelName(id uint16) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.welcome.Channels {
		if ch.ID == id {
			return ch.Name
		}
	}
	return ""
}

func joinNames(l []string) string {
	s := ""
	for i, n := range l {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
