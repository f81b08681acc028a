// Package accounts holds the relay's users and channel configuration.
//
// # Users file
//
// Users live in a JSON file, by default DATA/users.json, written by
// `relay user add|del` and read by the relay:
//
//	{
//	  "users": [
//	    {"name": "alice", "hash": "$2a$10$...", "roles": ["page", "admin"]},
//	    {"name": "door",  "hash": "$2a$10$...", "roles": []}
//	  ]
//	}
//
// Passwords are stored as bcrypt hashes (golang.org/x/crypto/bcrypt), never in
// clear. Roles are "page" (may page every channel) and "admin" (may list and
// kick sessions). A [Store] notices when the file changed on disk and reloads
// it before the next login, so users added while the relay runs can log in
// without a restart, and a relay watching it ([Store.Version]) ends the
// sessions of users deleted while they are logged in.
//
// # Names
//
// A user or channel name is 1 to 64 bytes of UTF-8 letters, digits and the
// punctuation . _ - @ (no spaces, no control characters). Names compare
// exactly (case matters).
package accounts

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hark-intercom/hark/proto"
	"golang.org/x/crypto/bcrypt"
)

// ErrAuth is returned by [Store.Authenticate] for an unknown user or a wrong
// password (deliberately not saying which).
var ErrAuth = errors.New("wrong user name or password")

// ErrNoUser is returned by [Store.Delete] for a name not in the file.
var ErrNoUser = errors.New("no such user")

// ErrUserExists is returned by [Store.Add] for a name already in the file.
var ErrUserExists = errors.New("the user already exists")

// CheckName reports whether s is a valid user or channel name (see the
// package documentation), with an error a person can act on.
func CheckName(kind, s string) error {
	if s == "" {
		return fmt.Errorf("the %s name is empty", kind)
	}
	if len(s) > proto.MaxNameLen {
		return fmt.Errorf("the %s name %q is longer than %d bytes", kind, s, proto.MaxNameLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("the %s name is not valid UTF-8", kind)
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._-@", r) {
			continue
		}
		return fmt.Errorf("the %s name %q contains %q: use letters, digits and . _ - @ only", kind, s, r)
	}
	return nil
}

// ParseRoles parses a comma-separated list of roles ("page,admin"; "" or
// "none" for no role).
func ParseRoles(s string) (proto.Role, error) {
	var r proto.Role
	for _, f := range strings.Split(s, ",") {
		switch strings.ToLower(strings.TrimSpace(f)) {
		case "", "none":
		case "page":
			r |= proto.RolePage
		case "admin":
			r |= proto.RoleAdmin
		default:
			return 0, fmt.Errorf("unknown role %q: the roles are page and admin", f)
		}
	}
	return r, nil
}

// RoleNames returns the names of the roles in r, as the users file writes
// them ("page", "admin"); empty, not nil, for none.
func RoleNames(r proto.Role) []string { return roleNames(r) }

func roleNames(r proto.Role) []string {
	n := []string{}
	if r&proto.RolePage != 0 {
		n = append(n, "page")
	}
	if r&proto.RoleAdmin != 0 {
		n = append(n, "admin")
	}
	return n
}

// User is one entry of the users file.
type User struct {
	Name  string     `json:"name"`
	Hash  string     `json:"hash"`
	Roles proto.Role `json:"-"`
}

type userJSON struct {
	Name  string   `json:"name"`
	Hash  string   `json:"hash"`
	Roles []string `json:"roles"`
}

type fileJSON struct {
	Users []userJSON `json:"users"`
}

// Store is a users file. Its methods are safe for concurrent use within one
// process; two processes writing the same file at once may lose an update.
// Make one with [Open] or [NewMemory].
type Store struct {
	path string // "" for an in-memory store
	cost int

	dummyOnce sync.Once
	dummyHash []byte // set once by dummy

	mu      sync.Mutex
	users   map[string]User // guarded by mu
	mtime   time.Time       // guarded by mu: modification time of the loaded file
	size    int64           // guarded by mu
	version uint64          // guarded by mu: counts changes to users (see Version)
}

// Open reads the users file at path. A missing file is an empty store (it is
// created by the first [Store.Add]).
func Open(path string) (*Store, error) { return OpenCost(path, 0) }

// OpenCost is [Open] hashing new passwords with bcrypt cost (0: the
// default cost; bcrypt.MinCost makes tests fast, also under the race
// detector on a busy machine, where the default cost took seconds).
func OpenCost(path string, cost int) (*Store, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	s := &Store{path: path, cost: cost, users: map[string]User{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewMemory returns an empty store that is never written to disk, hashing
// with cost (bcrypt.MinCost makes tests fast; 0 means the default cost).
func NewMemory(cost int) *Store {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return &Store{cost: cost, users: map[string]User{}}
}

// Path returns the file the store reads and writes ("" in memory).
func (s *Store) Path() string { return s.path }

// loadLocked (re)reads the file if it changed since the last load.
func (s *Store) loadLocked() error {
	if s.path == "" {
		return nil
	}
	st, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		if len(s.users) > 0 || !s.mtime.IsZero() {
			s.version++
		}
		s.users = map[string]User{}
		s.mtime, s.size = time.Time{}, 0
		return nil
	}
	if err != nil {
		return err
	}
	if st.ModTime().Equal(s.mtime) && st.Size() == s.size {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	var f fileJSON
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("users file %s is not valid: %w", s.path, err)
	}
	users := make(map[string]User, len(f.Users))
	for i, u := range f.Users {
		if err := CheckName("user", u.Name); err != nil {
			return fmt.Errorf("users file %s, entry %d: %w", s.path, i+1, err)
		}
		roles, err := ParseRoles(strings.Join(u.Roles, ","))
		if err != nil {
			return fmt.Errorf("users file %s, user %s: %w", s.path, u.Name, err)
		}
		users[u.Name] = User{Name: u.Name, Hash: u.Hash, Roles: roles}
	}
	s.users, s.mtime, s.size = users, st.ModTime(), st.Size()
	s.version++
	return nil
}

func (s *Store) saveLocked() error {
	if s.path == "" {
		return nil
	}
	var f fileJSON
	for _, u := range s.listLocked() {
		f.Users = append(f.Users, userJSON{Name: u.Name, Hash: u.Hash, Roles: roleNames(u.Roles)})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	keepDirOwner(tmp)
	if err := os.Rename(tmp, s.path); err != nil {
		return err
	}
	st, err := os.Stat(s.path)
	if err == nil {
		s.mtime, s.size = st.ModTime(), st.Size()
	}
	return nil
}

func (s *Store) listLocked() []User {
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Add creates a user with a password and roles, and saves the file. A name
// already in the file is refused with [ErrUserExists] (see [Store.Put]).
func (s *Store) Add(name, password string, roles proto.Role) error {
	return s.put(name, password, func(User, bool) (proto.Role, error) { return roles, nil }, false)
}

// Put creates a user or replaces an existing user's password, and saves
// the file. roles gives the user's roles from the existing entry (exists
// false for a new user).
func (s *Store) Put(name, password string, roles func(old User, exists bool) (proto.Role, error)) error {
	return s.put(name, password, roles, true)
}

func (s *Store) put(name, password string, roles func(User, bool) (proto.Role, error), replace bool) error {
	if err := CheckName("user", name); err != nil {
		return err
	}
	h, err := HashPassword(password, s.cost)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	old, exists := s.users[name]
	if exists && !replace {
		return fmt.Errorf("%w: %q", ErrUserExists, name)
	}
	r, err := roles(old, exists)
	if err != nil {
		return err
	}
	s.users[name] = User{Name: name, Hash: string(h), Roles: r}
	s.version++
	return s.saveLocked()
}

// KeepDirOwner gives a file that root wrote in a data directory the
// directory's owner (see keepDirOwner), so a relay running as its own user
// can still write it. A no-op unless running as root.
func KeepDirOwner(path string) { keepDirOwner(path) }

// HashPassword checks a new password (not empty, at most 72 bytes: bcrypt's
// limit) and returns its bcrypt hash at cost (0: the default cost).
func HashPassword(password string, cost int) ([]byte, error) {
	if password == "" {
		return nil, errors.New("the password is empty")
	}
	if len(password) > 72 {
		return nil, errors.New("the password is longer than 72 bytes (bcrypt's limit)")
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	return bcrypt.GenerateFromPassword([]byte(password), cost)
}

// Delete removes a user and saves the file; [ErrNoUser] if absent.
func (s *Store) Delete(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return err
	}
	if _, ok := s.users[name]; !ok {
		return fmt.Errorf("%w: %q", ErrNoUser, name)
	}
	delete(s.users, name)
	s.version++
	return s.saveLocked()
}

// Version re-reads the file if it changed on disk and returns a number
// that is different whenever the users may have changed since the last
// call (added, deleted or edited, here or by another process), so that a
// relay can end the sessions of deleted users.
func (s *Store) Version() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.loadLocked()
	return s.version, err
}

// Has reports whether name is a user (as last read; see [Store.Version]).
func (s *Store) Has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.users[name]
	return ok
}

// List returns the users sorted by name (hashes included).
func (s *Store) List() ([]User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return nil, err
	}
	return s.listLocked(), nil
}

// dummy returns a hash compared against when the user does not exist, so
// that a login for an unknown name costs as much as one with a wrong password.
func (s *Store) dummy() []byte {
	s.dummyOnce.Do(func() {
		s.dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user, no such password"), s.cost)
	})
	return s.dummyHash
}

// Authenticate checks a name and password and returns the user's roles, or
// an error wrapping [ErrAuth]. It reloads the file first if it changed. It
// takes tens of milliseconds (bcrypt) and holds no lock while hashing.
func (s *Store) Authenticate(name, password string) (proto.Role, error) {
	s.mu.Lock()
	err := s.loadLocked()
	u, ok := s.users[name]
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if !ok {
		bcrypt.CompareHashAndPassword(s.dummy(), []byte(password))
		return 0, ErrAuth
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) != nil {
		return 0, ErrAuth
	}
	return u.Roles, nil
}

// Credential returns a user's roles and a stamp that changes whenever the
// user's password changes (the stored hash itself: secret, never to be
// shown), or an error wrapping [ErrAuth] for an unknown user. It reloads the
// file first if it changed and hashes nothing: the relay checks resume
// tickets with it.
func (s *Store) Credential(name string) (proto.Role, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadLocked(); err != nil {
		return 0, "", err
	}
	u, ok := s.users[name]
	if !ok {
		return 0, "", ErrAuth
	}
	return u.Roles, u.Hash, nil
}

// Len returns the number of users.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// HasRole reports whether r includes every role in want.
func HasRole(r, want proto.Role) bool { return r&want == want }
