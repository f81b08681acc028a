package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// What came while talk was reconnecting (the relay's catch-up after a
// login) is printed: the client counts it as seen once the printer
// returns, so a text sent during a relay restart would otherwise be
// neither shown live nor ever again.
func TestEventPrinterShowsMissed(t *testing.T) {
	var b strings.Builder
	p := eventPrinter(&b, "carol")
	at := time.Date(2026, 12, 7, 13, 0, 0, 0, time.Local).UnixMilli()
	p(client.Event{Time: time.Now(), Msg: &proto.History{Flags: proto.HistoryMissed, More: true, Items: []proto.HistoryItem{
		{ID: 1, Kind: proto.ItemText, Time: at, From: "bob", Channel: "ops", Text: "sent while you were away"},
		{ID: 2, Kind: proto.ItemPrivate, Time: at, From: "bob", To: "carol", Text: "psst"},
	}}})
	// An answer to a history query is not news.
	p(client.Event{Time: time.Now(), Msg: &proto.History{Req: 3, Items: []proto.HistoryItem{{ID: 4, Kind: proto.ItemText, From: "x", Channel: "ops", Text: "old"}}}})
	out := b.String()
	for _, want := range []string{
		"13:00:00 missed: bob in ops: sent while you were away\n",
		"13:00:00 missed: bob to you (private): psst\n",
		"more was missed than listed here",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("printed %q, want it to contain %q", out, want)
		}
	}
	if strings.Contains(out, "old") {
		t.Errorf("printed a history answer as missed: %q", out)
	}
}
