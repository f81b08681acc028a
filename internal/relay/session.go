package relay

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/limit"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

// session is one logged-in client.
type session struct {
	r      *Relay
	id     uint32
	name   string
	roles  proto.Role
	addr   string
	since  time.Time
	conn   sessConn  // a QUIC connection or a WebTransport session (webtransport.go)
	stream ctlStream // the control stream
	log    *slog.Logger
	// version and features were negotiated in Hello (proto.Negotiate):
	// messages to this session are encoded for version, and a feature is
	// used only if it is in features. software is what the client said it
	// runs. All three are immutable after login.
	version  uint16
	features proto.Features
	software string

	// Guarded by r.mu.
	ch        *channel     // the channel the session is in, or nil
	mustStart bool         // frames need FlagStart (or a FloorRequest) to take a floor: last attempt was refused or cut
	gone      bool         // removed from the relay's tables
	ticketAt  time.Time    // when the session was last sent a resume ticket
	ended     bool         // the last transmission ended with an end frame…
	endSeq    uint16       // …of this sequence number
	monitored []*channel   // the channels it monitors besides its own (monitor.go)
	call      *whisperCall // the call it makes (whisper.go), or nil
	called    *whisperCall // the call it hears (whisper.go), or nil
	// Rings and texts reach everyone (and every box logs them), so each
	// has a limit of its own under the general control rate.
	ringLim, textLim limit.Bucket
	limWarned        time.Time // last rate-limit error sent for them
	// histLogin is the newest history id when the session logged in (its
	// catch-up goes up to it); histSeen the newest id of each channel it
	// caught up on or received live until it left. Guarded by r.mu.
	histLogin uint64
	histSeen  map[string]uint64
	fetching  atomic.Int32 // Fetch answers being sent
	// History reads waiting for a worker, in order; guarded by r.hist.rmu.
	histQ      []func()
	histQueued bool // in r.hist.ready or being run

	echo *echoRec // the echo test being recorded; owned by readDatagrams

	ctl   ctlQueue   // framed control messages to send, bounded (Config.ControlQueue bytes)
	voice voiceQueue // datagrams to send

	// The voice fast path (fastpath.go). pass is the talker's pass past
	// floor control, issued and withdrawn under r.mu, read without it;
	// passLast (guarded by r.mu) is the last frame time of a withdrawn
	// pass. direct decides whether a frame for this listener may go to
	// QUIC straight from the fan-out.
	pass     atomic.Pointer[voicePass]
	passLast int64
	direct   directState

	// needSnapshot (guarded by r.mu): the next presence flush sends the
	// session a Presence snapshot instead of changes (it logged in or
	// joined, or changes were held back because its control queue was
	// long). staleHint is set, for the writer without the lock, in the
	// last case: the writer asks for the snapshot once the queue drained.
	needSnapshot bool
	staleHint    atomic.Bool
	// presFrom (guarded by r.mu): the session got a snapshot after the
	// first presFrom presence changes waiting for the next flush.
	presFrom int

	heard atomic.Int64 // wall time (Unix ns) of the last control message read from the client

	closeOnce sync.Once
	closing   chan struct{} // closed by bye: the writer sends byeMsg, then closes
	byeCode   proto.Code    // written before closing is closed
	byeText   string
	abortOnce sync.Once
	abort     chan struct{} // closed when the session must close at once (control overflow)
}

// send queues a framed control message without blocking. When the queue
// holds more than Config.ControlQueue bytes the client is not reading (dead
// or hostile) and the session is aborted. Safe to call under r.mu; b must not
// be modified afterwards (it may be shared between sessions).
func (s *session) send(b []byte) {
	if s.ctl.push(b, s.r.cfg.ControlQueue) {
		return
	}
	s.abortOnce.Do(func() {
		s.r.c.controlOverrun.Add(1)
		s.log.Warn("closing session: it does not read its control messages (queue full)", "queued_bytes", s.ctl.size())
		close(s.abort)
		// The writer may be stuck in a stream write the client never
		// reads: close from outside (not under the caller's lock).
		go s.conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeRateLimit), "you did not read the relay's messages: closing")
	})
}

// sendMsg encodes m for the session's protocol version and queues it (see
// send).
func (s *session) sendMsg(m proto.Message) {
	if b := s.r.encodeFor(m, s.version); b != nil {
		s.send(b)
	}
}

// sendFrame queues f as encoded for the session's version (see send).
func (s *session) sendFrame(f *frame) {
	if b := f.bytesFor(s.version); b != nil {
		s.send(b)
	}
}

// bye asks the writer to send Bye{code, text} after what is queued and then
// close the connection. Only the first call counts. Safe under r.mu.
func (s *session) bye(code proto.Code, text string) {
	s.closeOnce.Do(func() {
		s.byeCode, s.byeText = code, text
		close(s.closing)
		// If the writer is stuck in a write the client never reads, it
		// cannot finish: close the connection anyway after a while.
		time.AfterFunc(2*s.r.cfg.ByeLinger+time.Second, func() {
			s.conn.CloseWithError(quic.ApplicationErrorCode(code), text)
		})
	})
}

// writeBufs holds buffers for coalesced control writes.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 20<<10); return &b }}

// writeLoop writes queued control messages to the stream until the session
// closes. It owns writes to s.stream and the final close of the connection
// (except when the peer or the transport closes it first).
func (s *session) writeLoop() {
	ctx := s.conn.Context()
	var batch [][]byte
	for {
		select {
		case <-s.ctl.notify:
			// Presence changes arrive in batches (see presence.go) and
			// are written together, in writes of up to 16 KiB.
			batch = s.ctl.popAll(batch[:0])
			if err := s.writeBatch(batch); err != nil {
				s.conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeInternal), "control stream write failed")
				return
			}
			clear(batch)
			if s.staleHint.Load() && s.ctl.size() == 0 {
				s.r.refreshPresence(s)
			}
		case <-s.closing:
			s.finish()
			return
		case <-s.abort:
			s.conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeRateLimit), "you did not read the relay's messages: closing")
			return
		case <-ctx.Done():
			return
		}
	}
}

// writeBatch writes framed messages, coalescing them into writes of up to
// 16 KiB in a pooled buffer (fewer packets during presence storms; idle
// sessions hold no buffer).
func (s *session) writeBatch(batch [][]byte) error {
	if len(batch) == 1 {
		_, err := s.stream.Write(batch[0])
		return err
	}
	pb := writeBufs.Get().(*[]byte)
	defer writeBufs.Put(pb)
	buf := (*pb)[:0]
	for i, b := range batch {
		buf = append(buf, b...)
		if len(buf) >= 16<<10 || i == len(batch)-1 {
			if _, err := s.stream.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	*pb = buf
	return nil
}

// finish flushes what is queued and the Bye, closes the stream, waits up to
// ByeLinger for the client to close, then closes the connection with the bye
// code and text (which a client also sees if the Bye itself is lost).
func (s *session) finish() {
	linger := s.r.cfg.ByeLinger
	s.stream.SetWriteDeadline(time.Now().Add(linger))
	if err := s.writeBatch(s.ctl.popAll(nil)); err == nil {
		if b := s.r.encodeFor(&proto.Bye{Code: s.byeCode, Text: s.byeText}, s.version); b != nil {
			s.stream.Write(b)
		}
	}
	s.stream.Close()
	t := time.NewTimer(linger)
	select {
	case <-s.conn.Context().Done():
	case <-t.C:
	}
	t.Stop()
	s.conn.CloseWithError(quic.ApplicationErrorCode(s.byeCode), s.byeText)
}

// voiceLoop sends queued voice datagrams. The fan-out sends the others
// itself only when QUIC's queue has room (session.trySend), so QUIC's
// blocking send queue only ever delays this listener.
func (s *session) voiceLoop() {
	done := s.conn.Context().Done()
	for {
		select {
		case <-s.voice.notify:
		case <-done:
			return
		}
		for {
			b := s.voice.pop()
			if b == nil {
				break
			}
			s.direct.queued() // before sent: the fan-out must see it owed
			err := s.conn.SendDatagram(b)
			s.voice.sent()
			if err != nil {
				s.r.c.dropped[dropSendError].Add(1)
				var tl *quic.DatagramTooLargeError
				if !errors.As(err, &tl) {
					select {
					case <-done:
						return
					default:
					}
				}
				continue
			}
			s.r.c.framesOut.Add(1)
		}
	}
}

// readDatagrams receives this session's datagrams and hands them to the
// relay. It never blocks on listeners.
func (s *session) readDatagrams() {
	ctx := s.conn.Context()
	lim := limit.NewBucket(s.r.cfg.VoiceRate, s.r.cfg.VoiceBurst, time.Now())
	for {
		b, err := s.conn.ReceiveDatagram(ctx)
		if err != nil {
			return
		}
		s.r.c.framesIn.Add(1)
		if !lim.Allow(time.Now()) {
			s.r.c.dropped[dropRateLimit].Add(1)
			continue
		}
		if len(b) > 0 && proto.DatagramKind(b[0]) == proto.KindProbe {
			s.r.handleProbe(s, b)
			continue
		}
		if isEcho(b) {
			s.handleEcho(b)
			continue
		}
		s.r.handleVoice(s, b)
	}
}

// ctlQueue is a FIFO of framed control messages bounded in bytes, with a
// wake-up channel. It allocates only while messages wait. Safe for
// concurrent use; the zero value is not usable: see init.
type ctlQueue struct {
	notify chan struct{} // capacity 1: "something was pushed"

	mu    sync.Mutex
	q     [][]byte // guarded by mu
	bytes int      // guarded by mu: total length of q's messages
}

func (q *ctlQueue) init() { q.notify = make(chan struct{}, 1) }

// push appends b unless the queue would exceed limit bytes (then false).
func (q *ctlQueue) push(b []byte, limit int) bool {
	q.mu.Lock()
	if q.bytes+len(b) > limit && q.bytes > 0 {
		q.mu.Unlock()
		return false
	}
	q.q = append(q.q, b)
	q.bytes += len(b)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return true
}

// popAll moves every waiting message to dst and returns it.
func (q *ctlQueue) popAll(dst [][]byte) [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	dst = append(dst, q.q...)
	if cap(q.q) > 64 {
		q.q = nil // do not keep a storm's worth of slots
	} else {
		clear(q.q)
		q.q = q.q[:0]
	}
	q.bytes = 0
	return dst
}

func (q *ctlQueue) size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes
}

// voiceQueue is a bounded drop-oldest FIFO of datagrams with a wake-up
// channel. Safe for concurrent use. The zero value is not usable: see init.
type voiceQueue struct {
	notify chan struct{} // capacity 1: "something was pushed"
	// busy counts datagrams queued or popped and not yet handed to QUIC
	// (see sent); while it is not 0 the fan-out queues, so that a
	// talker's frames keep their order.
	busy atomic.Int32

	mu   sync.Mutex
	buf  [][]byte // guarded by mu: ring buffer
	head int      // guarded by mu: index of the oldest entry
	n    int      // guarded by mu: entries in use
}

func (q *voiceQueue) init(size int) {
	q.buf = make([][]byte, size)
	q.notify = make(chan struct{}, 1)
}

// push appends b, dropping the oldest entry when full (reported by the
// result). b is shared: nobody may modify it afterwards.
func (q *voiceQueue) push(b []byte) (dropped bool) {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.buf[q.head] = nil
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = b
	q.n++
	if !dropped {
		q.busy.Add(1)
	}
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
	return dropped
}

// sent tells the queue that an entry pop returned was handed to QUIC (or
// refused by it).
func (q *voiceQueue) sent() { q.busy.Add(-1) }

// pop removes and returns the oldest entry, or nil. Call sent once the
// entry is sent.
func (q *voiceQueue) pop() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n == 0 {
		return nil
	}
	b := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return b
}

func (q *voiceQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// closeAfterError writes a last message straight to the stream of a
// connection that has no session (login failures), waits up to linger for
// the client to close, then closes with code and text.
func closeAfterError(ctx context.Context, conn sessConn, stream ctlStream, frame []byte, code proto.Code, text string, linger time.Duration) {
	if stream != nil {
		stream.SetWriteDeadline(time.Now().Add(linger))
		if frame != nil {
			stream.Write(frame)
		}
		stream.Close()
		t := time.NewTimer(linger)
		select {
		case <-conn.Context().Done():
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	conn.CloseWithError(quic.ApplicationErrorCode(code), text)
}
