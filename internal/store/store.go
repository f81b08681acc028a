// Package store is the relay's persistent state: one SQLite database,
// DATA/hark.db, in WAL mode, holding the accounts, the channels with their
// settings, and the history (texts, private texts, transmissions with their
// Opus packets, rings and pages) with each user's read position.
//
// # Why SQLite
//
// History is queried by channel, by time and by id, per user (read
// positions, private texts waiting for their recipient); accounts are edited
// by `relay user` while the relay runs. That is relational and
// transactional, and SQLite in WAL mode gives it in one crash-safe file of
// the data directory that readers and one writer share, also across
// processes (the relay and the `relay` administration commands). The driver
// is github.com/mattn/go-sqlite3 (cgo, which the relay's build already
// needs for libopus).
//
// # Writes
//
// History writes never run on the relay's network goroutines: [Store.Enqueue]
// hands a write to a bounded queue served by one writer goroutine, which
// commits the writes waiting in it in one transaction (synchronous=FULL: a
// committed write survives a crash or power loss) and then calls each
// write's done function. The relay acknowledges a text only from there, so
// whatever it acknowledged is on disk. When the queue is full (the disk
// stalls) a write is refused at once: the caller counts it as a history drop
// and voice goes on. Administration (accounts, channel settings, purge) is
// synchronous and meant for administration paths, not the voice path.
//
// # Ids
//
// Every history item has an id from one sequence, assigned when it is
// queued (so the relay can send a text live with its id before it is on
// disk), increasing in queue order. An id that was assigned to an item that
// a crash lost before its commit is never reused: the next id starts above
// every stored id and every read position.
//
// All methods are safe for concurrent use.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// FileName is the database's name in the relay's data directory.
const FileName = "hark.db"

// Options tune a [Store]. The zero value picks the documented defaults.
type Options struct {
	// Queue is how many writes may wait for the writer; default 4096.
	Queue int
	// TotalMaxBytes caps the Opus bytes of all stored transmissions and
	// pages together (oldest removed first); default 1 GiB; negative: no cap.
	TotalMaxBytes int64
	// UserMaxAge is how long private texts, rings and pages are kept
	// (channel items follow their channel's max-age); default 30 days.
	// A private text still waiting for its recipient is kept regardless.
	UserMaxAge time.Duration
	// Logger receives the store's logs; nil: discard.
	Logger *slog.Logger
	// NoWriter opens the store without the writer goroutine, for the
	// administration commands (they write synchronously).
	NoWriter bool
}

// Store is an open hark.db. Make one with [Open]; Close it when done.
type Store struct {
	path string
	db   *sql.DB // one connection: the writer's transactions and synchronous writes
	rdb  *sql.DB // readers
	opt  Options
	log  *slog.Logger
	c    Counters

	q      chan job
	qmu    sync.Mutex // guards next and pushes to q (ids increase in queue order)
	next   uint64     // guarded by qmu: the next item id
	closed bool       // guarded by qmu

	committed atomic.Uint64 // every id up to this is committed or dropped
	commitMu  sync.Mutex
	commitCh  chan struct{} // guarded by commitMu: closed and replaced at each commit

	stalled    atomic.Bool // a write was refused and it was logged
	failing    atomic.Bool // a commit failed and it was logged
	writerDone chan struct{}

	acc accountsCache

	// Used by the writer goroutine only (inside its transaction).
	touched        map[string]bool // channels written in this batch: their limits are applied
	touchedTotal   bool            // audio written: the total cap is applied
	pendingRemoved [numRemoveReasons]int64
}

// Counters are the store's statistics. Read them with [Store.Stats].
type Counters struct {
	Written  atomic.Uint64 // items committed
	Dropped  atomic.Uint64 // writes refused because the queue was full (disk stall)
	Failed   atomic.Uint64 // writes lost because the commit failed
	Removed  [numRemoveReasons]atomic.Uint64
	Batches  atomic.Uint64 // transactions committed by the writer
	Bytes    atomic.Uint64 // Opus bytes written
	QueueMax atomic.Uint64 // deepest queue seen
}

// Remove reasons: why items were deleted by a limit.
type removeReason int

const (
	RemovedCount removeReason = iota // channel max-count
	RemovedAge                       // channel max-age, or the relay's UserMaxAge
	RemovedBytes                     // channel max-bytes
	RemovedTotal                     // the relay's total cap
	RemovedPurge                     // `relay history purge`
	RemovedUser                      // the user was deleted
	numRemoveReasons
)

// RemoveNames name the remove reasons in metrics.
var RemoveNames = [numRemoveReasons]string{"max_count", "max_age", "max_bytes", "total_max_bytes", "purge", "user_deleted"}

// Stats is a snapshot of the counters.
type Stats struct {
	Written, Dropped, Failed, Batches, Bytes uint64
	Removed                                  map[string]uint64
	QueueDepth, QueueMax                     int
}

// Stats returns a snapshot of the store's counters.
func (s *Store) Stats() Stats {
	st := Stats{Written: s.c.Written.Load(), Dropped: s.c.Dropped.Load(), Failed: s.c.Failed.Load(),
		Batches: s.c.Batches.Load(), Bytes: s.c.Bytes.Load(), Removed: map[string]uint64{},
		QueueDepth: len(s.q), QueueMax: int(s.c.QueueMax.Load())}
	for i := range s.c.Removed {
		st.Removed[RemoveNames[i]] = s.c.Removed[i].Load()
	}
	return st
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
	name    TEXT PRIMARY KEY,
	hash    TEXT NOT NULL,
	roles   INTEGER NOT NULL,
	created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS channels (
	name     TEXT PRIMARY KEY,
	position INTEGER,          -- order in the relay's list (voice id = position+1); NULL: no longer listed
	settings TEXT NOT NULL     -- "mode=ptt history=text max-age=…" (see ChannelSettings)
);
-- Every history item: kind 1 channel text, 2 private text, 3 transmission,
-- 4 ring, 5 page (proto.HistoryKind). time is unix ms (a transmission's
-- start); size the Opus bytes of a transmission or page; delivered marks a
-- private text handed to a session of its recipient.
CREATE TABLE IF NOT EXISTS items (
	id        INTEGER PRIMARY KEY,
	kind      INTEGER NOT NULL,
	time      INTEGER NOT NULL,
	sender    TEXT NOT NULL,
	channel   TEXT NOT NULL DEFAULT '',
	recipient TEXT NOT NULL DEFAULT '',
	text      TEXT NOT NULL DEFAULT '',
	client_id INTEGER NOT NULL DEFAULT 0,
	flags     INTEGER NOT NULL DEFAULT 0,
	duration  INTEGER NOT NULL DEFAULT 0,
	size      INTEGER NOT NULL DEFAULT 0,
	delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS items_channel ON items(channel, id);
CREATE INDEX IF NOT EXISTS items_recipient ON items(recipient, id) WHERE recipient != '';
CREATE INDEX IF NOT EXISTS items_time ON items(time);
CREATE UNIQUE INDEX IF NOT EXISTS items_client ON items(sender, client_id) WHERE client_id != 0;
-- A transmission's Opus packets, never decoded: repeated
-- [offset u32 ms since start][length u16][packet], big-endian.
CREATE TABLE IF NOT EXISTS packets (
	item INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
	data BLOB NOT NULL
);
-- Each user's read position: the highest item id their clients have shown.
CREATE TABLE IF NOT EXISTS read_pos (user TEXT PRIMARY KEY, upto INTEGER NOT NULL);
`

// Open opens (creating if needed) the database at path, typically
// filepath.Join(dataDir, FileName), and starts its writer goroutine unless
// opt.NoWriter.
func Open(path string, opt Options) (*Store, error) {
	if opt.Queue <= 0 {
		opt.Queue = 4096
	}
	if opt.TotalMaxBytes == 0 {
		opt.TotalMaxBytes = 1 << 30
	}
	if opt.UserMaxAge <= 0 {
		opt.UserMaxAge = 30 * 24 * time.Hour
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history store: %w", err)
	}
	// synchronous=FULL: a commit is on disk when it returns (the relay
	// acknowledges texts after it). _txlock=immediate: a write transaction
	// takes the write lock at once, so two processes wait (busy_timeout)
	// instead of failing on a lock upgrade.
	dsn := "file:" + path + "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	rdb, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_foreign_keys=on&mode=ro")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("history store %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(4)
	s := &Store{path: path, db: db, rdb: rdb, opt: opt, log: opt.Logger, q: make(chan job, opt.Queue),
		commitCh: make(chan struct{}), writerDone: make(chan struct{}), touched: map[string]bool{}}
	if _, err := db.Exec(schema); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("history store %s: cannot create its tables: %w (is it a Hark database? move it away to start afresh)", path, err)
	}
	// Root adding a user next to a relay that runs as its own user must not
	// leave it a database it cannot write.
	for _, suf := range []string{"", "-wal", "-shm"} {
		accounts.KeepDirOwner(path + suf)
	}
	if err := s.initNext(); err != nil {
		s.closeDBs()
		return nil, err
	}
	if opt.NoWriter {
		close(s.writerDone)
	} else {
		go s.writer()
	}
	return s, nil
}

// initNext sets the next id above every stored id and read position.
func (s *Store) initNext() error {
	var a, b sql.NullInt64
	if err := s.db.QueryRow(`SELECT MAX(id) FROM items`).Scan(&a); err != nil {
		return fmt.Errorf("history store %s: %w", s.path, err)
	}
	if err := s.db.QueryRow(`SELECT MAX(upto) FROM read_pos`).Scan(&b); err != nil {
		return fmt.Errorf("history store %s: %w", s.path, err)
	}
	var hi uint64
	if v, ok := s.meta("max_id"); ok {
		hi, _ = strconv.ParseUint(v, 10, 64)
	}
	hi = max(hi, uint64(max(a.Int64, b.Int64, 0)))
	s.next = hi + 1
	s.committed.Store(hi)
	return nil
}

func (s *Store) closeDBs() {
	s.rdb.Close()
	s.db.Close()
}

// Path returns the database file.
func (s *Store) Path() string { return s.path }

// Close stops the writer after it committed what is queued, and closes the
// database.
func (s *Store) Close() error {
	s.qmu.Lock()
	if !s.closed {
		s.closed = true
		if !s.opt.NoWriter {
			close(s.q)
		}
	}
	s.qmu.Unlock()
	<-s.writerDone
	// The writer connection last: the last connection to close checkpoints
	// the WAL and removes it (a read-only one cannot).
	s.rdb.Close()
	return s.db.Close()
}

// job is one queued write. fn runs inside the writer's transaction; done
// (may be nil) runs on the writer goroutine after the commit, with fn's
// error or the commit's, and must not block.
type job struct {
	id   uint64 // the item id assigned at Enqueue, 0 for other writes
	fn   func(tx *sql.Tx) error
	done func(error)
}

// ErrFull is returned by [Store.Enqueue] when the write queue is full (the
// disk does not keep up): the write is dropped and counted.
var ErrFull = errors.New("history store: the write queue is full (the disk is too slow): not stored")

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("history store: closed")

// enqueue queues fn (and, with withID, assigns the next item id to it,
// passed to fn); it never blocks.
func (s *Store) enqueue(withID bool, fn func(tx *sql.Tx, id uint64) error, done func(error)) (uint64, error) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.closed || s.opt.NoWriter {
		return 0, ErrClosed
	}
	var id uint64
	if withID {
		id = s.next
	}
	j := job{id: id, fn: func(tx *sql.Tx) error { return fn(tx, id) }, done: done}
	select {
	case s.q <- j:
	default:
		s.c.Dropped.Add(1)
		if !s.stalled.Swap(true) {
			s.log.Error("history store: the disk does not keep up; history is being dropped (voice and live texts go on); see hark_history_dropped_total",
				"queue", cap(s.q), "db", s.path)
		}
		return 0, ErrFull
	}
	if withID {
		s.next++
	}
	if d := uint64(len(s.q)); d > s.c.QueueMax.Load() {
		s.c.QueueMax.Store(d)
	}
	return id, nil
}

// writer commits queued writes in batches until Close.
func (s *Store) writer() {
	defer close(s.writerDone)
	ageTick := time.NewTicker(30 * time.Second)
	defer ageTick.Stop()
	batch := make([]job, 0, 256)
	for {
		select {
		case j, ok := <-s.q:
			if !ok {
				return
			}
			batch = append(batch[:0], j)
		case <-ageTick.C:
			batch = append(batch[:0], job{fn: func(tx *sql.Tx) error { return s.enforceAll(tx, time.Now()) }})
		}
	more:
		for len(batch) < cap(batch) {
			select {
			case j, ok := <-s.q:
				if !ok {
					break more
				}
				batch = append(batch, j)
			default:
				break more
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit runs one batch in one transaction.
func (s *Store) commit(batch []job) {
	errs := make([]error, len(batch))
	var maxID uint64
	for _, j := range batch {
		maxID = max(maxID, j.id)
	}
	err := s.tx(func(tx *sql.Tx) error {
		for i, j := range batch {
			errs[i] = j.fn(tx)
		}
		if err := s.enforceTouched(tx, time.Now(), &s.pendingRemoved); err != nil {
			return err
		}
		if maxID > 0 {
			_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES('max_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, strconv.FormatUint(maxID, 10))
			return err
		}
		return nil
	})
	n := uint64(0)
	defer clear(s.pendingRemoved[:])
	for i, j := range batch {
		e := errs[i]
		if err != nil {
			e = err
		}
		if e != nil {
			s.c.Failed.Add(1)
		} else if j.id != 0 {
			n++
		}
	}
	if err != nil {
		if !s.failing.Swap(true) {
			s.log.Error("history store: cannot write to the database; history is being lost (voice and live texts go on)", "db", s.path, "err", err)
		}
		clear(s.touched)
		s.touchedTotal = false
	} else {
		for i, n := range s.pendingRemoved {
			s.c.Removed[i].Add(uint64(n))
		}
		s.c.Batches.Add(1)
		s.c.Written.Add(n)
		if s.failing.Swap(false) {
			s.log.Info("history store: writing works again", "db", s.path)
		}
		if len(s.q) == 0 && s.stalled.Swap(false) {
			s.log.Info("history store: the disk keeps up again; history is stored again", "dropped_total", s.c.Dropped.Load())
		}
	}
	if maxID > 0 {
		s.committed.Store(max(s.committed.Load(), maxID))
	}
	for i, j := range batch {
		if j.done != nil {
			e := errs[i]
			if err != nil {
				e = err
			}
			j.done(e)
		}
	}
	s.commitMu.Lock()
	close(s.commitCh)
	s.commitCh = make(chan struct{})
	s.commitMu.Unlock()
}

// WaitCommitted waits until every item id up to id was committed (or
// dropped), ctx ends or the store closes; it reports whether they were.
func (s *Store) WaitCommitted(ctx context.Context, id uint64) bool {
	for {
		s.commitMu.Lock()
		ch := s.commitCh
		s.commitMu.Unlock()
		if s.committed.Load() >= id {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-s.writerDone:
			return s.committed.Load() >= id
		}
	}
}

// LastID returns the highest item id assigned so far.
func (s *Store) LastID() uint64 {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.next - 1
}

// tx runs fn in a write transaction on the writer connection.
func (s *Store) tx(fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// meta reads a meta value (writer connection: sees its own writes).
func (s *Store) meta(key string) (string, bool) {
	var v string
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v); err != nil {
		return "", false
	}
	return v, true
}

func setMeta(tx *sql.Tx, key, value string) error {
	_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// bump increments the counter meta key (a version others poll).
func bump(tx *sql.Tx, key string) error {
	_, err := tx.Exec(`INSERT INTO meta(key, value) VALUES(?, '1') ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`, key)
	return err
}

// version reads a counter meta key from the readers' side (sees other
// processes' commits).
func (s *Store) version(key string) (uint64, error) {
	var v string
	err := s.rdb.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(v, 10, 64)
}

// Hold stops the writer, as a stalled disk would, until release is called
// (for tests of what a relay does when its disk does not keep up). It
// returns once the writer is held.
func (s *Store) Hold() (release func(), err error) {
	held, rel := make(chan struct{}), make(chan struct{})
	if _, err := s.enqueue(false, func(*sql.Tx, uint64) error { close(held); <-rel; return nil }, nil); err != nil {
		return nil, err
	}
	<-held
	var once sync.Once
	return func() { once.Do(func() { close(rel) }) }, nil
}
