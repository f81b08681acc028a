package client

import (
	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/proto"
)

// The fake relay's history (fakeRelay.history): a list of items, the Opus
// packets of the voice items, acknowledgements by ClientID, one read
// position. Users: "zed" is online, "carol" is a known offline account,
// "nobody" does not exist.

// addItem stores an item (its id assigned) and returns the id.
func (f *fakeRelay) addItem(it proto.HistoryItem, packets []proto.RecPacket) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	it.ID = f.nextID
	f.items = append(f.items, it)
	if packets != nil {
		if f.recordings == nil {
			f.recordings = map[uint64][]proto.RecPacket{}
		}
		f.recordings[it.ID] = packets
	}
	return it.ID
}

func (f *fakeRelay) storedTexts() []proto.HistoryItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []proto.HistoryItem
	for _, it := range f.items {
		if it.Kind == proto.ItemText || it.Kind == proto.ItemPrivate {
			out = append(out, it)
		}
	}
	return out
}

// sendMissed sends the catch-up: the items after the read position (also
// when there are none, as the relay does after a login).
func (f *fakeRelay) sendMissed(send func(proto.Message)) {
	f.mu.Lock()
	var missed []proto.HistoryItem
	for _, it := range f.items {
		if it.ID > f.readPos {
			missed = append(missed, it)
		}
	}
	f.mu.Unlock()
	send(&proto.History{Flags: proto.HistoryMissed, Items: missed})
}

// serveText answers a text as the history relay does; false means the
// connection was dropped instead (dropTexts).
func (f *fakeRelay) serveText(qc *quic.Conn, m *proto.Text, name string, send func(proto.Message)) bool {
	f.mu.Lock()
	if f.dropTexts > 0 {
		f.dropTexts--
		f.mu.Unlock()
		qc.CloseWithError(0, "dropped by test")
		return false
	}
	if ack, ok := f.acks[m.ClientID]; ok {
		f.mu.Unlock()
		send(&ack)
		return true
	}
	f.mu.Unlock()
	if m.To == "nobody" {
		send(&proto.Error{Code: proto.CodeNoUser, About: proto.TypeText, Text: "no such user"})
		return true
	}
	it := proto.HistoryItem{Kind: proto.ItemText, From: name, Channel: m.Channel, To: m.To, Text: m.Text, Time: 1000}
	ack := proto.TextAck{ClientID: m.ClientID, Status: proto.TextSent}
	switch m.To {
	case "":
	case "carol":
		it.Kind, it.Flags, ack.Status = proto.ItemPrivate, proto.ItemWaiting, proto.TextWaiting
	default:
		it.Kind, ack.Status = proto.ItemPrivate, proto.TextDelivered
	}
	ack.ID = f.addItem(it, nil)
	f.mu.Lock()
	if f.acks == nil {
		f.acks = map[uint64]proto.TextAck{}
	}
	f.acks[m.ClientID] = ack
	f.mu.Unlock()
	send(&ack)
	if m.To == "" { // the channel hears it, the sender too
		send(&proto.Text{From: 7, FromName: name, Channel: m.Channel, Time: 1000, Text: m.Text, ID: ack.ID})
	}
	return true
}

func (f *fakeRelay) serveHistory(m proto.Message, send func(proto.Message)) {
	// The message was recorded (and waiters woken) before it was served:
	// wake them again once its effect (readPos) is there to see.
	defer f.signal()
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m := m.(type) {
	case *proto.HistoryRead:
		f.readPos = max(f.readPos, m.UpTo)
	case *proto.HistoryQuery:
		limit := int(m.Limit)
		if limit == 0 {
			limit = 50
		}
		var out []proto.HistoryItem
		more := false
		add := func(it proto.HistoryItem) bool {
			if m.Channel != "" && it.Channel != m.Channel ||
				m.Before != 0 && it.ID >= m.Before || m.After != 0 && it.ID <= m.After {
				return true
			}
			if len(out) == limit {
				more = true
				return false
			}
			out = append(out, it)
			return true
		}
		if m.After != 0 {
			for _, it := range f.items {
				if !add(it) {
					break
				}
			}
		} else {
			for i := len(f.items) - 1; i >= 0; i-- {
				if !add(f.items[i]) {
					break
				}
			}
		}
		send(&proto.History{Req: m.Req, Items: out, More: more})
	case *proto.Fetch:
		p, ok := f.recordings[m.ID]
		if !ok {
			send(&proto.Error{Code: proto.CodeNotFound, About: proto.TypeFetch, Text: "no such recording"})
			return
		}
		half := len(p) / 2
		send(&proto.Recording{Req: m.Req, ID: m.ID, Packets: p[:half], More: true})
		send(&proto.Recording{Req: m.Req, ID: m.ID, Packets: p[half:]})
	case *proto.ChannelSet:
		send(&proto.ChannelSettings{Channel: m.Channel, Settings: m.Settings + " max-age=24h"})
	}
}
