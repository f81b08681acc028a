package relay

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

// recorder assembles transmissions from the voice frames the relay
// forwarded and hands each finished one to the store: its Opus packets,
// never decoded, with their offsets from the talker's timestamps. The voice
// path gives it frames with [history.capture], a non-blocking send on a
// bounded queue; the recorder's goroutine does the rest.
type recorder struct {
	r  *Relay
	st *store.Store
	q  chan recFrame

	dropped    atomic.Uint64 // frames the queue had no room for
	dropLogged atomic.Bool

	// Used by the recorder goroutine only.
	txs map[recKey]*recTx
}

// recQueue is the recorder's queue length in frames (a few seconds of
// 200 talkers at 50 frames/s).
const recQueue = 16384

type recFrame struct {
	sess  uint32
	name  string
	ch    *channel // nil for a page
	flags proto.VoiceFlags
	ts    uint32 // talker's timestamp, 48 kHz samples
	dur   uint16 // frame length, 48 kHz samples
	at    time.Time
	opus  []byte // shared with the listeners' queues: read only
}

type recKey struct {
	sess uint32
	ch   *channel
}

// recTx is a transmission being recorded.
type recTx struct {
	it       store.Item
	start    time.Time
	ts0      uint32
	last     time.Time
	end      uint32 // ms from the start to the end of the last frame
	blob     []byte
	audio    bool // packets are kept
	maxLen   time.Duration
	maxBytes int64
}

func newRecorder(r *Relay, st *store.Store) *recorder {
	return &recorder{r: r, st: st, q: make(chan recFrame, recQueue), txs: map[recKey]*recTx{}}
}

// capture hands a forwarded frame to the recorder if its channel keeps
// voice (pages are always noted: a page is history even without its
// audio). It never blocks: a full queue drops the frame from the
// recording (counted, logged once). opus must stay unmodified.
func (h *history) capture(s *session, hd proto.VoiceHeader, opus []byte, now time.Time) {
	var ch *channel
	if hd.Channel != proto.PageChannel {
		ch = h.r.chByID[hd.Channel]
		if ch == nil || !ch.recVoice.Load() {
			return
		}
	}
	select {
	case h.rec.q <- recFrame{sess: s.id, name: s.name, ch: ch, flags: hd.Flags, ts: hd.Timestamp, dur: hd.Duration, at: now, opus: opus}:
	default:
		h.rec.dropped.Add(1)
		if !h.rec.dropLogged.Swap(true) {
			h.r.cfg.Logger.Warn("history: the recorder does not keep up; voice frames are missing from recordings (live voice is not affected); see hark_relay_history_voice_dropped_total")
		}
	}
}

func (rc *recorder) run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case f := <-rc.q:
			rc.frame(f)
		case now := <-t.C:
			idle := max(rc.r.cfg.FloorTimeout, 500*time.Millisecond)
			for k, tx := range rc.txs {
				if now.Sub(tx.last) > idle {
					rc.finish(k, tx)
				}
			}
			if len(rc.q) == 0 {
				rc.dropLogged.Store(false)
			}
		case <-ctx.Done():
			// What is queued and what is being recorded goes to the store
			// (which its owner closes after the relay, committing it).
			for {
				select {
				case f := <-rc.q:
					rc.frame(f)
					continue
				default:
				}
				break
			}
			for k, tx := range rc.txs {
				rc.finish(k, tx)
			}
			return
		}
	}
}

func (rc *recorder) frame(f recFrame) {
	k := recKey{f.sess, f.ch}
	tx := rc.txs[k]
	if tx != nil && f.flags&proto.FlagStart != 0 {
		rc.finish(k, tx)
		tx = nil
	}
	if tx == nil {
		tx = &recTx{start: f.at, ts0: f.ts, it: store.Item{Time: proto.UnixMillis(f.at), From: f.name}}
		if f.ch == nil {
			tx.it.Kind = store.KindPage
			tx.audio = rc.r.hist.pageVoice.Load()
			tx.maxLen = max(rc.r.cfg.MaxTalk, 0)
		} else {
			tx.it.Kind, tx.it.Channel, tx.audio = store.KindVoice, f.ch.info.Name, true
			if set := f.ch.hset.Load(); set != nil {
				tx.maxLen, tx.maxBytes = set.MaxLength, set.MaxTxBytes
			}
		}
		rc.txs[k] = tx
	}
	tx.last = f.at
	// Offsets follow the talker's clock (no network jitter), unless it is
	// far from the arrival times (a client with a broken clock).
	arrival := uint32(f.at.Sub(tx.start) / time.Millisecond)
	off := (f.ts - tx.ts0) / 48
	if int32(f.ts-tx.ts0) < 0 || off > arrival+5000 || off+5000 < arrival {
		off = arrival
	}
	off = max(off, tx.end-min(tx.end, uint32(f.dur)/48)) // never before the previous frame
	if tx.audio && tx.it.Flags&store.FlagCut == 0 {
		switch {
		case tx.maxLen > 0 && time.Duration(off)*time.Millisecond >= tx.maxLen,
			tx.maxBytes > 0 && int64(tx.it.Size)+int64(len(f.opus)) > tx.maxBytes:
			tx.it.Flags |= store.FlagCut
		default:
			tx.blob = store.AppendPacket(tx.blob, off, f.opus)
			tx.it.Size += uint32(len(f.opus))
			tx.end = off + uint32(f.dur)/48
		}
	} else if !tx.audio {
		tx.end = off + uint32(f.dur)/48
	}
	if f.flags&proto.FlagEnd != 0 {
		rc.finish(k, tx)
	}
}

// finish hands a transmission to the store.
func (rc *recorder) finish(k recKey, tx *recTx) {
	delete(rc.txs, k)
	tx.it.Duration = tx.end
	var blob []byte
	if tx.audio && len(tx.blob) > 0 {
		tx.it.Flags |= store.FlagAudio
		blob = tx.blob
	}
	if tx.it.Kind == store.KindVoice && blob == nil {
		return // nothing kept of it
	}
	it := tx.it
	// A full queue is counted by the store. Once stored, sessions that
	// came back while it was under way get it (away.go).
	rc.st.AddItem(it, blob, func(id uint64, err error) {
		if err == nil && it.Flags&store.FlagAudio != 0 {
			it.ID = id
			rc.r.hist.awayStored(it)
		}
	})
}
