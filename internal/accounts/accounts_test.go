package accounts

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/hark-intercom/hark/proto"
	"golang.org/x/crypto/bcrypt"
)

func TestStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.cost = bcrypt.MinCost
	if err := s.Add("alice", "pw1", proto.RolePage|proto.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("bad name", "x", 0); err == nil {
		t.Fatal("name with a space accepted")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("users file mode %v", st.Mode().Perm())
	}
	// A second store (another process) adds bob; the first sees him.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s2.cost = bcrypt.MinCost
	if err := s2.Add("bob", "pw2", 0); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Authenticate("bob", "pw2"); err != nil || r != 0 {
		t.Fatalf("bob: %v %v", r, err)
	}
	if r, err := s.Authenticate("alice", "pw1"); err != nil || r != proto.RolePage|proto.RoleAdmin {
		t.Fatalf("alice: %v %v", r, err)
	}
	if _, err := s.Authenticate("alice", "nope"); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := s.Authenticate("carol", "pw1"); !errors.Is(err, ErrAuth) {
		t.Fatalf("unknown user: %v", err)
	}
	if err := s.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("alice"); !errors.Is(err, ErrNoUser) {
		t.Fatalf("second delete: %v", err)
	}
	l, _ := s2.List()
	if len(l) != 1 || l[0].Name != "bob" {
		t.Fatalf("list %+v", l)
	}
}

func TestChannels(t *testing.T) {
	c, err := ParseChannels([]byte(`{"channels":[{"name":"a"},{"name":"b","mode":"open"}]}`))
	if err != nil || c.Default != "a" || c.List[1].Mode != proto.ModeOpen {
		t.Fatalf("%+v %v", c, err)
	}
	for _, bad := range []string{`{}`, `{"channels":[{"name":"a","mode":"x"}]}`, `{"default":"z","channels":[{"name":"a"}]}`, `{"channels":[{"name":"a"},{"name":"a"}]}`, `nope`} {
		if _, err := ParseChannels([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	d, err := LoadChannels(filepath.Join(t.TempDir(), "none.json"), false)
	if err != nil || d.Default != "lobby" {
		t.Fatalf("%+v %v", d, err)
	}
	if _, err := LoadChannels(filepath.Join(t.TempDir(), "none.json"), true); err == nil {
		t.Fatal("missing file accepted")
	}
	if r, err := ParseRoles("page, admin"); err != nil || r != proto.RolePage|proto.RoleAdmin {
		t.Fatal(r, err)
	}
	if _, err := ParseRoles("root"); err == nil {
		t.Fatal("unknown role accepted")
	}
}

// TestUsersFileKeepsDirOwner: root adding a user to the relay's data
// directory (owned by the relay's user) leaves users.json readable by the
// relay. Runs only as root (as CI does).
func TestUsersFileKeepsDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change file owners")
	}
	dir := t.TempDir()
	if err := os.Chown(dir, 4242, 4243); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add("alice", "pw", 0); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); sys.Uid != 4242 || sys.Gid != 4243 {
		t.Fatalf("users.json owned by %d:%d, want the directory's 4242:4243", sys.Uid, sys.Gid)
	}
}

// Add refuses an existing name; Put replaces; Version changes whenever the
// users do, also when another process edits the file.
func TestAddExistingAndVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.cost = bcrypt.MinCost
	v0, _ := s.Version()
	if err := s.Add("alice", "pw", proto.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	v1, _ := s.Version()
	if v1 == v0 || !s.Has("alice") {
		t.Fatalf("version %d → %d after add, has %v", v0, v1, s.Has("alice"))
	}
	if err := s.Add("alice", "other", 0); !errors.Is(err, ErrUserExists) {
		t.Fatalf("second add: %v", err)
	}
	if r, err := s.Authenticate("alice", "pw"); err != nil || r != proto.RoleAdmin {
		t.Fatalf("the refused add changed alice: %v %v", r, err)
	}
	if v, _ := s.Version(); v != v1 {
		t.Errorf("version moved without a change")
	}
	err = s.Put("alice", "new", func(old User, ok bool) (proto.Role, error) {
		if !ok || old.Roles != proto.RoleAdmin {
			t.Errorf("Put saw %+v, %v", old, ok)
		}
		return old.Roles, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate("alice", "new"); err != nil {
		t.Fatal(err)
	}
	// Another process (relay user del) removes alice.
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := s.Version()
	if err := s2.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	if v3, _ := s.Version(); v3 == v2 || s.Has("alice") {
		t.Errorf("the other process's delete was not seen: version %d → %d, has %v", v2, v3, s.Has("alice"))
	}
	// In memory too.
	m := NewMemory(bcrypt.MinCost)
	m.Add("bob", "pw", 0)
	mv, _ := m.Version()
	m.Delete("bob")
	if v, _ := m.Version(); v == mv || m.Has("bob") {
		t.Error("in-memory delete not seen")
	}
}
