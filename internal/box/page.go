package box

import (
	"log/slog"

	"github.com/hark-intercom/hark/internal/ptt"
	"github.com/hark-intercom/hark/proto"
)

// buttonSource is an extra button of the box (replay, page): an evdev key
// or button name (KEY_…, BTN_…) of device (or the push-to-talk evdev
// device, or the first device that has the key), or else a GPIO line on
// the box's chip with the push-to-talk button's settings.
func buttonSource(cfg Config, button, device, consumer string, log *slog.Logger) ptt.Source {
	if isKeyName(button) {
		if device == "" {
			device = cfg.EvdevDevice
		}
		return &ptt.Evdev{Device: device, Key: button, WaitForDevice: true, Logger: log.With("part", consumer)}
	}
	bcfg := cfg.Button
	bcfg.Consumer = "hark-" + consumer
	return &ptt.Button{Open: ptt.GPIOLine(cfg.GPIOChip, button, bcfg)}
}

// alarmEvent notes alarms ringing at the box: the first press of the talk
// button after an alarm acknowledges it (and talks, so the person can
// answer at once). It returns true for alarm messages.
func (b *box) alarmEvent(m proto.Message) bool {
	self := b.floor.Session()
	c := b.alarms.Apply(m, self)
	switch m := m.(type) {
	case *proto.Ring:
		if !c.About || m.From == self {
			return false // a ring, or the box's own alarm: rung as a ring
		}
		b.log.Warn("ALARM: press the talk button to acknowledge", "from", m.FromName, "text", m.Text)
	case *proto.AlarmAck:
		if !m.Over {
			b.log.Info("alarm acknowledged", "by", m.Name, "pending", m.Pending)
		} else {
			b.log.Info("the alarm is over", "by", m.Name)
		}
	default:
		return false
	}
	b.show()
	return true
}

// ackAlarms acknowledges every alarm ringing at the box (a press of the
// talk button).
func (b *box) ackAlarms() {
	ids := b.alarms.Ringing()
	c := b.floor.Client()
	if c == nil || len(ids) == 0 {
		return
	}
	for _, id := range ids {
		if err := c.AckAlarm(id); err != nil {
			b.log.Warn("could not acknowledge the alarm; press again", "err", err)
			return
		}
	}
	b.log.Info("alarm acknowledged at this box")
}
