package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Kind is a history item's kind; the values are proto.HistoryKind's.
type Kind uint8

// Item kinds.
const (
	KindText    Kind = 1 // a channel text
	KindPrivate Kind = 2 // a private text
	KindVoice   Kind = 3 // a transmission in a channel
	KindRing    Kind = 4 // a ring (to everyone)
	KindPage    Kind = 5 // a page (to everyone; Channel "")
)

// Flags mark an item.
type Flags uint8

// Item flags.
const (
	FlagAudio Flags = 1 << 0 // the Opus packets are stored (Packets works)
	FlagCut   Flags = 1 << 1 // stored cut at the channel's max-length or max-tx-bytes
)

// Item is one history item.
type Item struct {
	ID       uint64
	Kind     Kind
	Flags    Flags
	Time     int64 // unix ms; a transmission's start
	From     string
	Channel  string // channel items; "" for private texts, rings and pages
	To       string // private texts
	Text     string // texts and rings
	ClientID uint64 // the sender's id of a text, for dedup; 0 none
	Duration uint32 // ms, transmissions and pages
	Size     uint32 // Opus bytes, transmissions and pages
	// Delivered marks a private text handed to a session of its recipient.
	Delivered bool
}

// Packet is one Opus packet of a transmission and when it came, in ms
// since the transmission's start.
type Packet struct {
	Offset uint32
	Opus   []byte
}

// AppendPacket appends one packet to a packets blob:
//
//	offset u32  ms since the transmission's start
//	length u16
//	opus   [length]byte
func AppendPacket(b []byte, offset uint32, opus []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, offset)
	b = binary.BigEndian.AppendUint16(b, uint16(len(opus)))
	return append(b, opus...)
}

// PacketOverhead is the bytes a packets blob adds to each packet.
const PacketOverhead = 6

// DecodePackets parses a packets blob (see AppendPacket). The packets'
// Opus slices point into b.
func DecodePackets(b []byte) ([]Packet, error) {
	var out []Packet
	for len(b) > 0 {
		if len(b) < PacketOverhead {
			return out, errors.New("history store: packets blob cut in a header")
		}
		off := binary.BigEndian.Uint32(b)
		n := int(binary.BigEndian.Uint16(b[4:]))
		if len(b) < PacketOverhead+n {
			return out, errors.New("history store: packets blob cut in a packet")
		}
		out = append(out, Packet{Offset: off, Opus: b[PacketOverhead : PacketOverhead+n : PacketOverhead+n]})
		b = b[PacketOverhead+n:]
	}
	return out, nil
}

// ErrDuplicate is the error for a text whose sender and ClientID are already
// stored; DuplicateError carries the stored text's id.
var ErrDuplicate = errors.New("history store: already stored")

// DuplicateError says which stored item a duplicate repeats.
type DuplicateError struct{ ID uint64 }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("history store: already stored as %d", e.ID)
}
func (e *DuplicateError) Unwrap() error { return ErrDuplicate }

// AddItem queues an item (a Kind, Time, From, … but no ID) with its packets blob
// (see AppendPacket; nil for none) and returns the id it will have. It
// never blocks: ErrFull when the queue is full. done (may be nil) is
// called on the writer goroutine with the id once the item is committed (nil), refused
// (*DuplicateError) or lost (another error); it must not block.
func (s *Store) AddItem(it Item, packets []byte, done func(id uint64, err error)) (uint64, error) {
	var id uint64 // set under qmu before the writer can see the job
	var d func(error)
	if done != nil {
		d = func(err error) { done(id, err) }
	}
	return s.enqueue(true, func(tx *sql.Tx, jid uint64) error {
		id = jid
		return s.insert(tx, jid, &it, packets)
	}, d)
}

func (s *Store) insert(tx *sql.Tx, id uint64, it *Item, packets []byte) error {
	_, err := tx.Exec(`INSERT INTO items(id, kind, time, sender, channel, recipient, text, client_id, flags, duration, size, delivered)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(id), it.Kind, it.Time, it.From, it.Channel, it.To, it.Text, int64(it.ClientID), it.Flags, it.Duration, it.Size, it.Delivered)
	if err != nil {
		var se sqlite3.Error
		if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique && it.ClientID != 0 {
			var old int64
			if tx.QueryRow(`SELECT id FROM items WHERE sender = ? AND client_id = ?`, it.From, int64(it.ClientID)).Scan(&old) == nil {
				return &DuplicateError{ID: uint64(old)}
			}
		}
		return err
	}
	if packets != nil {
		if _, err := tx.Exec(`INSERT INTO packets(item, data) VALUES(?, ?)`, int64(id), packets); err != nil {
			return err
		}
		s.c.Bytes.Add(uint64(it.Size))
	}
	if it.Channel != "" {
		s.touched[it.Channel] = true
	}
	if packets != nil {
		s.touchedTotal = true
	}
	return nil
}

// AddItemNow stores an item synchronously (not through the queue), for tests and
// tools; it returns the id.
func (s *Store) AddItemNow(it Item, packets []byte) (uint64, error) {
	ch := make(chan error, 1)
	id, err := s.AddItem(it, packets, func(_ uint64, err error) { ch <- err })
	if err != nil {
		return 0, err
	}
	return id, <-ch
}

// MarkDelivered queues marking private texts delivered. It never blocks.
func (s *Store) MarkDelivered(ids []uint64, done func(error)) error {
	_, err := s.enqueue(false, func(tx *sql.Tx, _ uint64) error {
		for _, id := range ids {
			if _, err := tx.Exec(`UPDATE items SET delivered = 1 WHERE id = ?`, int64(id)); err != nil {
				return err
			}
		}
		return nil
	}, done)
	return err
}

// SetRead queues moving user's read position forward to upto (never
// back). It never blocks.
func (s *Store) SetRead(user string, upto uint64, done func(error)) error {
	_, err := s.enqueue(false, func(tx *sql.Tx, _ uint64) error {
		_, err := tx.Exec(`INSERT INTO read_pos(user, upto) VALUES(?, ?) ON CONFLICT(user) DO UPDATE SET upto = MAX(upto, excluded.upto)`, user, int64(upto))
		return err
	}, done)
	return err
}

// ReadPos returns user's read position (ok false if they have none).
func (s *Store) ReadPos(user string) (uint64, bool, error) {
	var v int64
	err := s.rdb.QueryRow(`SELECT upto FROM read_pos WHERE user = ?`, user).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return uint64(v), err == nil, err
}

const itemCols = `id, kind, flags, time, sender, channel, recipient, text, client_id, duration, size, delivered`

func scanItems(rows *sql.Rows) ([]Item, error) {
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var id, cid int64
		if err := rows.Scan(&id, &it.Kind, &it.Flags, &it.Time, &it.From, &it.Channel, &it.To, &it.Text, &cid, &it.Duration, &it.Size, &it.Delivered); err != nil {
			return nil, err
		}
		it.ID, it.ClientID = uint64(id), uint64(cid)
		out = append(out, it)
	}
	return out, rows.Err()
}

// Visible is the SQL condition for items user may see: everything public
// (channel texts, transmissions, rings, pages) and their own private texts.
const visible = `(kind != 2 OR sender = ?1 OR recipient = ?1)`

// CatchUpQuery selects what a user missed (see [Store.CatchUp]).
type CatchUpQuery struct {
	UpTo    uint64 // the newest id to include (the newest when the session started)
	After   uint64 // also skip ids up to this (what the session already got); 0: none
	Channel string // only this channel's items; "": everything the user may see
	Limit   int
}

// CatchUp returns, oldest first, up to q.Limit items user has not seen:
// newer than their read position (and q.After), at most q.UpTo, not their
// own, private texts only their own; more is true if there were more. A
// user without a read position (first login) starts at q.UpTo, except for
// private texts waiting for them; that position is stored.
func (s *Store) CatchUp(ctx context.Context, user string, q CatchUpQuery) ([]Item, bool, error) {
	pos, ok, err := s.ReadPos(user)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		var first sql.NullInt64
		if err := s.rdb.QueryRowContext(ctx, `SELECT MIN(id) FROM items WHERE kind = 2 AND recipient = ? AND delivered = 0`, user).Scan(&first); err != nil {
			return nil, false, err
		}
		pos = q.UpTo
		if first.Valid && uint64(first.Int64) <= q.UpTo {
			pos = uint64(first.Int64) - 1
		}
		start := pos // the writer runs the insert later; pos changes below
		s.enqueue(false, func(tx *sql.Tx, _ uint64) error {
			_, err := tx.Exec(`INSERT INTO read_pos(user, upto) VALUES(?, ?) ON CONFLICT(user) DO NOTHING`, user, int64(start))
			return err
		}, nil)
	}
	pos = max(pos, q.After)
	cond, args := "", []any{user, int64(pos), int64(q.UpTo), q.Limit + 1}
	if q.Channel != "" {
		cond, args = " AND channel = ?5", append(args, q.Channel)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+itemCols+` FROM items WHERE id > ?2 AND id <= ?3 AND sender != ?1
		AND (kind != 2 OR recipient = ?1)`+cond+` ORDER BY id LIMIT ?4`, args...)
	if err != nil {
		return nil, false, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(items) > q.Limit
	if more {
		items = items[:q.Limit]
	}
	return items, more, nil
}

// Barrier queues done to run after every write queued before it was
// committed. It never blocks (ErrFull).
func (s *Store) Barrier(done func(error)) error {
	_, err := s.enqueue(false, func(*sql.Tx, uint64) error { return nil }, done)
	return err
}

// Query selects items (see proto.HistoryQuery).
type Query struct {
	Channel       string // "" every channel plus the user's own private texts, rings and pages
	Before, After uint64 // ids, 0 unbounded
	Since, Until  int64  // unix ms, 0 unbounded
	Limit         int    // 0: 50; at most 500
	Kinds         uint8  // bitmask of 1<<Kind; 0 all
}

// Query returns the items q selects that user may see: newest first, or
// oldest first when q.After is set; more is true when the limit cut the
// answer.
func (s *Store) Query(ctx context.Context, user string, q Query) ([]Item, bool, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	where := []string{visible}
	args := []any{user}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("?%d", len(args))))
	}
	if q.Channel != "" {
		add("channel = ?", q.Channel)
	}
	if q.Before != 0 {
		add("id < ?", int64(q.Before))
	}
	if q.After != 0 {
		add("id > ?", int64(q.After))
	}
	if q.Since != 0 {
		add("time >= ?", q.Since)
	}
	if q.Until != 0 {
		add("time <= ?", q.Until)
	}
	if q.Kinds != 0 {
		var ks []string
		for k := range 8 {
			if q.Kinds&(1<<k) != 0 {
				ks = append(ks, fmt.Sprint(k))
			}
		}
		where = append(where, "kind IN ("+strings.Join(ks, ",")+")")
	}
	order := "DESC"
	if q.After != 0 {
		order = "ASC"
	}
	args = append(args, q.Limit+1)
	rows, err := s.rdb.QueryContext(ctx, fmt.Sprintf(`SELECT %s FROM items WHERE %s ORDER BY id %s LIMIT ?%d`,
		itemCols, strings.Join(where, " AND "), order, len(args)), args...)
	if err != nil {
		return nil, false, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return nil, false, err
	}
	more := len(items) > q.Limit
	if more {
		items = items[:q.Limit]
	}
	return items, more, nil
}

// ErrNotFound is returned for an item that is not stored (or user may not
// see, or that has no audio).
var ErrNotFound = errors.New("history store: no such item")

// Get returns one item user may see.
func (s *Store) Get(ctx context.Context, user string, id uint64) (Item, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+itemCols+` FROM items WHERE id = ?2 AND `+visible, user, int64(id))
	if err != nil {
		return Item{}, err
	}
	items, err := scanItems(rows)
	if err != nil {
		return Item{}, err
	}
	if len(items) == 0 {
		return Item{}, ErrNotFound
	}
	return items[0], nil
}

// Packets returns a transmission or page user may see with its packets.
func (s *Store) Packets(ctx context.Context, user string, id uint64) (Item, []Packet, error) {
	it, err := s.Get(ctx, user, id)
	if err != nil {
		return it, nil, err
	}
	var b []byte
	err = s.rdb.QueryRowContext(ctx, `SELECT data FROM packets WHERE item = ?`, int64(id)).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return it, nil, ErrNotFound
	}
	if err != nil {
		return it, nil, err
	}
	p, err := DecodePackets(b)
	return it, p, err
}

// ClientRef is a stored text's sender id, for dedup.
type ClientRef struct {
	From      string
	ClientID  uint64
	ID        uint64
	Kind      Kind
	Delivered bool
	To        string
}

// RecentClientIDs returns the texts with a client id from the newest limit,
// for the relay's dedup table.
func (s *Store) RecentClientIDs(limit int) ([]ClientRef, error) {
	rows, err := s.rdb.Query(`SELECT sender, client_id, id, kind, delivered, recipient FROM items WHERE client_id != 0 ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ClientRef
	for rows.Next() {
		var c ClientRef
		var cid, id int64
		if err := rows.Scan(&c.From, &cid, &id, &c.Kind, &c.Delivered, &c.To); err != nil {
			return nil, err
		}
		c.ClientID, c.ID = uint64(cid), uint64(id)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Waiting returns the private texts to user not yet delivered, oldest first.
func (s *Store) Waiting(ctx context.Context, user string) ([]Item, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+itemCols+` FROM items WHERE kind = 2 AND recipient = ? AND delivered = 0 ORDER BY id`, user)
	if err != nil {
		return nil, err
	}
	return scanItems(rows)
}

// Purge deletes a channel's items older than before (every item if before
// is zero) and returns how many.
func (s *Store) Purge(channel string, before time.Time) (int64, error) {
	var n int64
	err := s.tx(func(tx *sql.Tx) error {
		q, args := `DELETE FROM items WHERE channel = ?`, []any{channel}
		if !before.IsZero() {
			q += ` AND time < ?`
			args = append(args, before.UnixMilli())
		}
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err == nil {
		s.c.Removed[RemovedPurge].Add(uint64(n))
	}
	return n, err
}

// ChannelStats is what one channel (or "" for private texts, rings and
// pages) keeps.
type ChannelStats struct {
	Channel              string
	Texts, Transmissions int64 // texts: channel texts, or private texts and rings for ""
	Pages                int64
	Bytes                int64 // Opus bytes
	Oldest, Newest       time.Time
}

// HistoryStats returns what each channel keeps, and the database's size
// on disk (with its WAL).
func (s *Store) HistoryStats() ([]ChannelStats, int64, error) {
	rows, err := s.rdb.Query(`SELECT channel,
		SUM(kind IN (1, 2, 4)), SUM(kind = 3), SUM(kind = 5), COALESCE(SUM(size), 0), MIN(time), MAX(time)
		FROM items GROUP BY channel ORDER BY channel`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []ChannelStats
	for rows.Next() {
		var c ChannelStats
		var lo, hi int64
		if err := rows.Scan(&c.Channel, &c.Texts, &c.Transmissions, &c.Pages, &c.Bytes, &lo, &hi); err != nil {
			return nil, 0, err
		}
		c.Oldest, c.Newest = time.UnixMilli(lo), time.UnixMilli(hi)
		out = append(out, c)
	}
	var size int64
	for _, suf := range []string{"", "-wal"} {
		if st, err := os.Stat(s.path + suf); err == nil {
			size += st.Size()
		}
	}
	return out, size, rows.Err()
}

// ---- limits (on the writer goroutine, inside its transaction) ----

// enforceTouched applies the limits of the channels written in this batch.
func (s *Store) enforceTouched(tx *sql.Tx, now time.Time, removed *[numRemoveReasons]int64) error {
	for ch := range s.touched {
		if err := s.enforceChannel(tx, ch, now, removed); err != nil {
			return err
		}
	}
	clear(s.touched)
	if s.touchedTotal {
		s.touchedTotal = false
		return s.enforceTotal(tx, removed)
	}
	return nil
}

func (s *Store) enforceAll(tx *sql.Tx, now time.Time) error {
	rows, err := tx.Query(`SELECT DISTINCT channel FROM items WHERE channel != ''`)
	if err != nil {
		return err
	}
	var chans []string
	for rows.Next() {
		var c string
		rows.Scan(&c)
		chans = append(chans, c)
	}
	rows.Close()
	for _, c := range chans {
		s.touched[c] = true
	}
	res, err := tx.Exec(`DELETE FROM items WHERE kind IN (2, 4, 5) AND time < ? AND NOT (kind = 2 AND delivered = 0)`,
		now.Add(-s.opt.UserMaxAge).UnixMilli())
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	s.pendingRemoved[RemovedAge] += n
	s.touchedTotal = true
	return nil
}

// settingsTx reads a channel's settings (defaults for an unknown one).
func settingsTx(tx *sql.Tx, channel string) ChannelSettings {
	var cur string
	set := DefaultSettings(0)
	if tx.QueryRow(`SELECT settings FROM channels WHERE name = ?`, channel).Scan(&cur) == nil {
		if c, err := set.Apply(cur); err == nil {
			set = c
		}
	}
	return set
}

func (s *Store) enforceChannel(tx *sql.Tx, ch string, now time.Time, removed *[numRemoveReasons]int64) error {
	set := settingsTx(tx, ch)
	del := func(why removeReason, q string, args ...any) error {
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		removed[why] += n
		return nil
	}
	if set.MaxAge > 0 {
		if err := del(RemovedAge, `DELETE FROM items WHERE channel = ? AND time < ?`, ch, now.Add(-set.MaxAge).UnixMilli()); err != nil {
			return err
		}
	}
	if set.MaxCount > 0 {
		if err := del(RemovedCount, `DELETE FROM items WHERE channel = ?1 AND id <= (SELECT id FROM items WHERE channel = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)`,
			ch, set.MaxCount); err != nil {
			return err
		}
	}
	if set.MaxBytes > 0 {
		cut, err := bytesCut(tx, `SELECT id, size FROM items WHERE channel = ? AND size > 0 ORDER BY id DESC`, set.MaxBytes, ch)
		if err != nil {
			return err
		}
		if cut > 0 {
			if err := del(RemovedBytes, `DELETE FROM items WHERE channel = ? AND size > 0 AND id <= ?`, ch, int64(cut)); err != nil {
				return err
			}
		}
	}
	return nil
}

// bytesCut walks items newest first and returns the id of the newest item
// that no longer fits in limit bytes (0: everything fits).
func bytesCut(tx *sql.Tx, q string, limit int64, args ...any) (uint64, error) {
	rows, err := tx.Query(q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			return 0, err
		}
		sum += size
		if sum > limit {
			return uint64(id), nil
		}
	}
	return 0, rows.Err()
}

func (s *Store) enforceTotal(tx *sql.Tx, removed *[numRemoveReasons]int64) error {
	if s.opt.TotalMaxBytes <= 0 {
		return nil
	}
	var total int64
	if err := tx.QueryRow(`SELECT COALESCE(SUM(size), 0) FROM items`).Scan(&total); err != nil {
		return err
	}
	if total <= s.opt.TotalMaxBytes {
		return nil
	}
	cut, err := bytesCut(tx, `SELECT id, size FROM items WHERE size > 0 ORDER BY id DESC`, s.opt.TotalMaxBytes)
	if err != nil || cut == 0 {
		return err
	}
	// Only what holds audio goes: texts are tiny and kept by their own limits.
	res, err := tx.Exec(`DELETE FROM items WHERE size > 0 AND id <= ?`, int64(cut))
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	removed[RemovedTotal] += n
	return nil
}
