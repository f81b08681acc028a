package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/proto"
	"golang.org/x/crypto/bcrypt"
)

// t0 is a recent time for items (limits remove items older than max-age).
var t0 = time.Now().UnixMilli()

func open(t *testing.T, dir string, opt Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(dir, FileName), opt)
	if err != nil {
		t.Fatal(err)
	}
	s.SetPasswordCost(bcrypt.MinCost)
	t.Cleanup(func() { s.Close() })
	return s
}

func setup(t *testing.T, s *Store, chans string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "channels.json")
	if err := os.WriteFile(f, []byte(chans), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import("", f, true); err != nil {
		t.Fatal(err)
	}
}

func mustAdd(t *testing.T, s *Store, it Item, packets []byte) uint64 {
	t.Helper()
	id, err := s.AddItemNow(it, packets)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func countChannel(t *testing.T, s *Store, ch string) []Item {
	t.Helper()
	items, _, err := s.Query(context.Background(), "admin", Query{Channel: ch, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// The oldest items go first when a channel's max-count or max-bytes is
// reached, and the removals are counted.
func TestLimitsRemoveOldestFirst(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	setup(t, s, `{"channels":[{"name":"lobby"},{"name":"ops"}]}`)
	if _, err := s.SetChannel("lobby", "history=voice max-count=3"); err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for i := range 5 {
		ids = append(ids, mustAdd(t, s, Item{Kind: KindText, Time: t0 + int64(1000+i), From: "a", Channel: "lobby", Text: "t"}, nil))
	}
	got := countChannel(t, s, "lobby")
	if len(got) != 3 || got[0].ID != ids[4] || got[2].ID != ids[2] {
		t.Fatalf("after max-count=3 the channel keeps %+v, want the newest 3 of %v", got, ids)
	}
	if n := s.Stats().Removed["max_count"]; n != 2 {
		t.Fatalf("max_count removals %d, want 2", n)
	}
	// Another channel is not touched by lobby's limits.
	mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1, From: "a", Channel: "ops", Text: "x"}, nil)

	if _, err := s.SetChannel("ops", "history=voice max-bytes=250 max-count=none"); err != nil {
		t.Fatal(err)
	}
	var blob []byte
	blob = AppendPacket(blob, 0, make([]byte, 100))
	v1 := mustAdd(t, s, Item{Kind: KindVoice, Flags: FlagAudio, Time: t0 + 2, From: "a", Channel: "ops", Size: 100}, blob)
	v2 := mustAdd(t, s, Item{Kind: KindVoice, Flags: FlagAudio, Time: t0 + 3, From: "a", Channel: "ops", Size: 100}, blob)
	v3 := mustAdd(t, s, Item{Kind: KindVoice, Flags: FlagAudio, Time: t0 + 4, From: "a", Channel: "ops", Size: 100}, blob)
	got = countChannel(t, s, "ops")
	ids = nil
	for _, it := range got {
		ids = append(ids, it.ID)
	}
	if len(got) != 3 || got[0].ID != v3 || got[1].ID != v2 || got[2].Kind != KindText {
		t.Fatalf("after max-bytes=250 ops keeps %v, want %d %d and the text (not %d)", ids, v3, v2, v1)
	}
	if _, _, err := s.Packets(context.Background(), "a", v1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("packets of a removed transmission: %v", err)
	}
	if n := s.Stats().Removed["max_bytes"]; n != 1 {
		t.Fatalf("max_bytes removals %d, want 1", n)
	}
}

func TestMaxAgeAndTotalCap(t *testing.T) {
	s := open(t, t.TempDir(), Options{TotalMaxBytes: 150})
	setup(t, s, `{"channels":[{"name":"lobby"},{"name":"ops"}]}`)
	if _, err := s.SetChannel("lobby", "max-age=1h"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	mustAdd(t, s, Item{Kind: KindText, Time: now.Add(-2 * time.Hour).UnixMilli(), From: "a", Channel: "lobby", Text: "old"}, nil)
	fresh := mustAdd(t, s, Item{Kind: KindText, Time: now.UnixMilli(), From: "a", Channel: "lobby", Text: "new"}, nil)
	if got := countChannel(t, s, "lobby"); len(got) != 1 || got[0].ID != fresh {
		t.Fatalf("after max-age=1h lobby keeps %+v", got)
	}
	blob := AppendPacket(nil, 0, make([]byte, 100))
	a := mustAdd(t, s, Item{Kind: KindVoice, Time: now.UnixMilli(), From: "a", Channel: "lobby", Size: 100, Flags: FlagAudio}, blob)
	b := mustAdd(t, s, Item{Kind: KindVoice, Time: now.UnixMilli(), From: "a", Channel: "ops", Size: 100, Flags: FlagAudio}, blob)
	if _, err := s.Get(context.Background(), "a", a); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the total cap kept the oldest transmission: %v", err)
	}
	if _, err := s.Get(context.Background(), "a", b); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Removed["max_age"] != 1 || st.Removed["total_max_bytes"] != 1 {
		t.Fatalf("removals %v", st.Removed)
	}
}

// A text whose sender and client id are stored is refused with the stored
// id, also after a reopen.
func TestDedupByClientID(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	id := mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1, From: "a", Channel: "lobby", Text: "hi", ClientID: 77}, nil)
	// Another sender may use the same client id.
	mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1, From: "b", Channel: "lobby", Text: "hi", ClientID: 77}, nil)
	s.Close()
	s = open(t, dir, Options{})
	_, err := s.AddItemNow(Item{Kind: KindText, Time: t0 + 2, From: "a", Channel: "lobby", Text: "hi", ClientID: 77}, nil)
	var dup *DuplicateError
	if !errors.As(err, &dup) || dup.ID != id {
		t.Fatalf("resend: %v, want a duplicate of %d", err, id)
	}
	refs, err := s.RecentClientIDs(10)
	if err != nil || len(refs) != 2 {
		t.Fatalf("recent client ids %+v %v", refs, err)
	}
	if n := len(countChannel(t, s, "lobby")); n != 2 {
		t.Fatalf("%d texts stored, want 2", n)
	}
	// Ids never go back, even for ids lost before a commit.
	if next := s.LastID(); next < id+1 {
		t.Fatalf("last id %d after reopen, want at least %d", next, id+1)
	}
}

// An old data directory's users.json and channels.json are imported with
// every account and channel; the files stay as they were.
func TestImportKeepsEveryAccountAndChannel(t *testing.T) {
	dir := t.TempDir()
	uf := filepath.Join(dir, "users.json")
	us, err := accounts.Open(uf)
	if err != nil {
		t.Fatal(err)
	}
	us2 := us
	for _, u := range []struct {
		n string
		r proto.Role
	}{{"alice", proto.RolePage | proto.RoleAdmin}, {"bob", 0}, {"door-1", proto.RolePage}} {
		if err := us2.Add(u.n, "pw-"+u.n, u.r); err != nil {
			t.Fatal(err)
		}
	}
	cf := filepath.Join(dir, "channels.json")
	chJSON := `{"default":"ops","channels":[{"name":"lobby","mode":"ptt"},{"name":"ops","mode":"open"},{"name":"yard"}]}`
	os.WriteFile(cf, []byte(chJSON), 0o600)
	before, _ := os.ReadFile(uf)

	s := open(t, dir, Options{})
	rep, err := s.Import(uf, cf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != 3 || rep.ChannelsCount != 3 {
		t.Fatalf("import report %+v", rep)
	}
	for _, n := range []string{"alice", "bob", "door-1"} {
		roles, err := s.Authenticate(n, "pw-"+n)
		if err != nil {
			t.Fatalf("%s cannot log in after the import: %v", n, err)
		}
		want, _, _ := us.Credential(n)
		if roles != want {
			t.Fatalf("%s roles %v, want %v", n, roles, want)
		}
	}
	if _, err := s.Authenticate("alice", "wrong"); !errors.Is(err, accounts.ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
	c, err := s.AccountsChannels()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.List) != 3 || c.List[1].Name != "ops" || c.List[1].Mode != proto.ModeOpen || c.List[2].Name != "yard" || c.Default != "ops" {
		t.Fatalf("channels %+v", c)
	}
	after, _ := os.ReadFile(uf)
	if string(after) != string(before) {
		t.Fatal("the users file changed")
	}
	// A second start does not import users again (a user deleted in the
	// store stays deleted) but does apply an edited channels file, keeping
	// settings made in the store.
	if err := s.Delete("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetChannel("lobby", "history=voice"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cf, []byte(`{"channels":[{"name":"lobby","mode":"open"},{"name":"ops","mode":"open"}]}`), 0o600)
	rep, err = s.Import(uf, cf, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Users != 0 || s.Has("bob") || !s.Has("alice") {
		t.Fatalf("second import: %+v, bob %v", rep, s.Has("bob"))
	}
	l, def, _ := s.Channels()
	if len(l) != 2 || l[0].Settings.Mode != proto.ModeOpen || l[0].Settings.History != HistoryVoice || def != "lobby" {
		t.Fatalf("after editing channels.json: %+v default %s", l, def)
	}
}

func TestPurgeAndUserDelete(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	setup(t, s, `{"channels":[{"name":"lobby"},{"name":"ops"}]}`)
	if err := s.Add("carol", "pw", 0); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1000, From: "a", Channel: "lobby", Text: "old"}, nil)
	keep := mustAdd(t, s, Item{Kind: KindText, Time: t0 + 5000, From: "a", Channel: "lobby", Text: "new"}, nil)
	ops := mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1000, From: "a", Channel: "ops", Text: "ops"}, nil)
	n, err := s.Purge("lobby", time.UnixMilli(t0+2000))
	if err != nil || n != 1 {
		t.Fatalf("purge before: %d %v", n, err)
	}
	if got := countChannel(t, s, "lobby"); len(got) != 1 || got[0].ID != keep {
		t.Fatalf("lobby after purge %+v", got)
	}
	if n, _ := s.Purge("lobby", time.Time{}); n != 1 {
		t.Fatalf("purge all removed %d", n)
	}
	if got := countChannel(t, s, "ops"); len(got) != 1 || got[0].ID != ops {
		t.Fatal("purge of lobby touched ops")
	}

	p1 := mustAdd(t, s, Item{Kind: KindPrivate, Time: t0 + 1, From: "a", To: "carol", Text: "for carol"}, nil)
	mustAdd(t, s, Item{Kind: KindPrivate, Time: t0 + 1, From: "carol", To: "a", Text: "from carol"}, nil)
	other := mustAdd(t, s, Item{Kind: KindPrivate, Time: t0 + 1, From: "a", To: "dave", Text: "for dave"}, nil)
	w, _ := s.Waiting(context.Background(), "carol")
	if len(w) != 1 || w[0].ID != p1 {
		t.Fatalf("waiting for carol %+v", w)
	}
	// Others do not see private texts.
	if _, err := s.Get(context.Background(), "eve", p1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("eve sees carol's private text: %v", err)
	}
	if err := s.Delete("carol"); err != nil {
		t.Fatal(err)
	}
	items, _, _ := s.Query(context.Background(), "a", Query{Kinds: 1 << KindPrivate})
	if len(items) != 1 || items[0].ID != other {
		t.Fatalf("private texts after deleting carol %+v", items)
	}
	if err := s.Delete("carol"); !errors.Is(err, accounts.ErrNoUser) {
		t.Fatalf("second delete: %v", err)
	}
}

// Catch-up is what a user has not seen: after their read position, not
// their own, private texts only their own; a new user starts at the newest
// item except for private texts waiting for them.
func TestCatchUp(t *testing.T) {
	s := open(t, t.TempDir(), Options{})
	ctx := context.Background()
	mustAdd(t, s, Item{Kind: KindText, Time: t0 + 1, From: "a", Channel: "lobby", Text: "before carol"}, nil)
	p := mustAdd(t, s, Item{Kind: KindPrivate, Time: t0 + 2, From: "a", To: "carol", Text: "hi carol"}, nil)
	mustAdd(t, s, Item{Kind: KindPrivate, Time: t0 + 2, From: "a", To: "dave", Text: "hi dave"}, nil)
	t2 := mustAdd(t, s, Item{Kind: KindText, Time: t0 + 3, From: "b", Channel: "ops", Text: "later"}, nil)
	mustAdd(t, s, Item{Kind: KindText, Time: t0 + 3, From: "carol", Channel: "ops", Text: "own"}, nil)
	items, more, err := s.CatchUp(ctx, "carol", CatchUpQuery{UpTo: s.LastID(), Limit: 10})
	if err != nil || more {
		t.Fatal(err, more)
	}
	if len(items) != 2 || items[0].ID != p || items[1].ID != t2 {
		t.Fatalf("carol's first catch-up %+v", items)
	}
	done := make(chan error, 1)
	s.SetRead("carol", p, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s.SetRead("carol", 1, func(err error) { done <- err }) // never back
	<-done
	items, _, _ = s.CatchUp(ctx, "carol", CatchUpQuery{UpTo: s.LastID(), Limit: 1})
	if len(items) != 1 || items[0].ID != t2 {
		t.Fatalf("after reading up to %d: %+v", p, items)
	}
	if pos, _, _ := s.ReadPos("carol"); pos != p {
		t.Fatalf("read position %d, want %d", pos, p)
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	c, err := DefaultSettings(proto.ModePTT).Apply("history=voice max-age=24h max-count=500 max-bytes=50MB max-length=90s max-tx-bytes=512KB mode=open")
	if err != nil {
		t.Fatal(err)
	}
	want := "mode=open history=voice max-length=90s max-tx-bytes=512KB max-count=500 max-age=1d max-bytes=50MB max-talk=default talk=everyone listen=everyone"
	if c.String() != want {
		t.Fatalf("got %q want %q", c.String(), want)
	}
	back, err := DefaultSettings(0).Apply(c.String())
	if err != nil || back != c {
		t.Fatalf("round trip %+v %v", back, err)
	}
	c, err = c.Apply("max-talk=45s talk=bob,role:admin,alice listen=role:page,carol")
	if err != nil {
		t.Fatal(err)
	}
	if want := "max-talk=45s talk=role:admin,alice,bob listen=role:page,carol"; !strings.HasSuffix(c.String(), want) {
		t.Fatalf("got %q, want it to end in %q", c.String(), want)
	}
	if back, err := DefaultSettings(0).Apply(c.String()); err != nil || back != c {
		t.Fatalf("round trip %+v %v", back, err)
	}
	talk, _ := c.TalkRule()
	listen, _ := c.ListenRule()
	for _, tc := range []struct {
		name          string
		roles         proto.Role
		talk, listens bool
	}{
		{"alice", 0, true, false}, {"bob", 0, true, false}, {"carol", 0, false, true},
		{"dave", proto.RoleAdmin, true, false}, {"erin", proto.RolePage, false, true}, {"frank", 0, false, false},
	} {
		if talk.Allows(tc.name, tc.roles) != tc.talk || listen.Allows(tc.name, tc.roles) != tc.listens {
			t.Errorf("%s (%v): talk %v listen %v, want %v %v", tc.name, tc.roles, talk.Allows(tc.name, tc.roles),
				listen.Allows(tc.name, tc.roles), tc.talk, tc.listens)
		}
	}
	if c, err = c.Apply("talk=everyone listen=all max-talk=default"); err != nil || c.Talk != "" || c.Listen != "" || c.MaxTalk != 0 {
		t.Fatalf("back to everyone: %+v %v", c, err)
	}
	for _, bad := range []string{"history=all", "max-age=-1h", "nope=1", "max-bytes", "max-count=x",
		"max-talk=0", "max-talk=soon", "talk=role:boss", "listen=bad name", "talk=alice,,bob"} {
		if _, err := c.Apply(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A full queue refuses writes at once (counted) instead of blocking.
func TestFullQueueDropsAndCounts(t *testing.T) {
	s := open(t, t.TempDir(), Options{Queue: 1})
	block := make(chan struct{})
	started := make(chan struct{})
	// The first write holds the writer inside its transaction.
	s.enqueue(false, func(tx *sql.Tx, _ uint64) error { close(started); <-block; return nil }, nil)
	<-started
	if _, err := s.AddItem(Item{Kind: KindText, From: "a", Channel: "c"}, nil, nil); err != nil {
		t.Fatalf("the queue's one slot: %v", err)
	}
	_, err := s.AddItem(Item{Kind: KindText, From: "a", Channel: "c"}, nil, nil)
	if !errors.Is(err, ErrFull) || s.Stats().Dropped != 1 {
		t.Fatalf("full queue: %v, dropped %d", err, s.Stats().Dropped)
	}
	close(block)
	if !s.WaitCommitted(context.Background(), s.LastID()) {
		t.Fatal("not committed")
	}
}
