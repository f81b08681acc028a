package loadgen

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// browser is a websocket client of the gateway, as the web page is: it
// logs in, stays, and notes when the gateway says it lost the relay and
// was back, the texts it shows (live or "missed"), and the audio it plays.
type browser struct {
	c    *websocket.Conn
	done chan struct{} // closed when the reader has ended

	mu      sync.Mutex // guards the fields below
	want    string     // the round's text
	lost    time.Time  // first "reconnecting" of the round
	back    time.Time  // first "joined" after a "connected" of the round
	again   bool       // a "connected" came; the next "joined" is back
	text    bool       // the round's text came live
	caught  bool       // the round's text came in a "missed" list
	blocks  int        // 20 ms PCM blocks with sound since the round began
	readErr error
}

// dialBrowser opens a websocket to the gateway at url and logs in.
func dialBrowser(ctx context.Context, url, name, password, channel string) (*browser, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(1 << 20)
	b, _ := json.Marshal(map[string]any{"t": "login", "name": name, "password": password, "channel": channel})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		c.CloseNow()
		return nil, err
	}
	br := &browser{c: c, done: make(chan struct{})}
	joined := make(chan error, 1)
	go br.read(joined)
	select {
	case err := <-joined:
		if err != nil {
			c.CloseNow()
			<-br.done
			return nil, err
		}
		return br, nil
	case <-ctx.Done():
		c.CloseNow()
		<-br.done
		return nil, fmt.Errorf("the browser's login had no answer: %w", ctx.Err())
	}
}

// read handles the gateway's messages until the socket closes; joined gets
// the login's outcome.
func (b *browser) read(joined chan<- error) {
	defer close(b.done)
	first := true
	for {
		typ, data, err := b.c.Read(context.Background())
		if err != nil {
			b.mu.Lock()
			b.readErr = err
			b.mu.Unlock()
			if first {
				joined <- err
			}
			return
		}
		now := time.Now()
		if typ == websocket.MessageBinary {
			// 0x01 PCM: 8 bytes of header, then 20 ms of int16 LE.
			if len(data) > 8 && data[0] == 0x01 && loud(data[8:]) {
				b.mu.Lock()
				b.blocks++
				b.mu.Unlock()
			}
			continue
		}
		var m struct {
			T, State, Code, From, Text string
			Items                      []struct{ From, Text string }
		}
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		b.mu.Lock()
		switch m.T {
		case "error":
			if first {
				first = false
				joined <- fmt.Errorf("the gateway refused the browser's login: %s (%s)", m.Text, m.Code)
			}
		case "joined":
			if first {
				first = false
				joined <- nil
			}
			if b.again && b.back.IsZero() {
				b.back = now
			}
		case "state":
			switch {
			case m.State == "reconnecting" && b.lost.IsZero():
				b.lost = now
			case m.State == "connected" && !b.lost.IsZero():
				b.again = true
			}
		case "text":
			if m.From == "sender" && m.Text == b.want {
				b.text = true
			}
		case "missed":
			for _, it := range m.Items {
				if it.From == "sender" && it.Text == b.want {
					b.caught = true
				}
			}
		}
		b.mu.Unlock()
	}
}

// loud reports whether 20 ms of int16 LE samples are over 1% of full scale
// (RMS), as heard counts a recording.
func loud(pcm []byte) bool {
	n := len(pcm) / 2
	if n == 0 {
		return false
	}
	var sum float64
	for i := range n {
		v := float64(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
		sum += v * v
	}
	return math.Sqrt(sum/float64(n)) > 0.01
}

// arm starts a round: what happened before is forgotten.
func (b *browser) arm(text string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.want, b.lost, b.back, b.again, b.text, b.caught, b.blocks = text, time.Time{}, time.Time{}, false, false, false, 0
}

// round returns what the round saw.
func (b *browser) round() (lost, back time.Time, text, caught bool, heard time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lost, b.back, b.text, b.caught, time.Duration(b.blocks) * 20 * time.Millisecond
}

func (b *browser) close() {
	b.c.Close(websocket.StatusNormalClosure, "")
	<-b.done
}
