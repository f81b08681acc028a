package client

import (
	"context"
	"errors"

	"github.com/hark-intercom/hark/proto"
)

// ErrAlarmUnsupported: the relay does not know alarms (it is older than
// this program).
var ErrAlarmUnsupported = errors.New("the relay does not support alarms (it is older than this program): send a plain ring, or update the relay")

// Alarm rings every station with a repeating tone until each acknowledges
// (see proto.RingAlarm). The relay's Ring, with the alarm's id, comes back
// as an event like everyone else's; acknowledgements come as
// *proto.AlarmAck events. It returns ErrAlarmUnsupported for an older
// relay.
func (c *Client) Alarm(ctx context.Context, text string) error {
	cn, err := c.current()
	if err != nil {
		return err
	}
	if cn.features&proto.FeatureAlarm == 0 {
		return ErrAlarmUnsupported
	}
	r, err := c.request(ctx, &proto.Ring{Text: text, Flags: proto.RingAlarm}, func(m proto.Message) bool { return isErrorAbout(m, proto.TypeRing) }, true)
	if err != nil {
		return err
	}
	if e, ok := r.(*proto.Error); ok {
		return c.errorFor(e, "raise the alarm")
	}
	return nil
}

// AckAlarm acknowledges an alarm at this station (the alarm's sender
// acknowledging ends it for everyone). It does not wait for the relay.
func (c *Client) AckAlarm(id uint32) error {
	cn, err := c.current()
	if err != nil {
		return err
	}
	if err := cn.write(&proto.AlarmAck{Alarm: id}); err != nil {
		return ErrConnectionLost
	}
	return nil
}
