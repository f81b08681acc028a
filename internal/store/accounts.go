package store

import (
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/proto"
	"golang.org/x/crypto/bcrypt"
)

// The store's accounts replace users.json (imported on the first start,
// see [Store.Import]). They implement the relay's Authenticator,
// Credentials and UserList: a running relay sees accounts added, changed or
// deleted by `relay user` (another process) within a second.

// accountsCache is the accounts as last read. Guarded by mu.
type accountsCache struct {
	mu      sync.Mutex
	loaded  bool
	version uint64                   // the meta "accounts" counter it was read at
	users   map[string]accounts.User // guarded by mu
	cost    int                      // bcrypt cost for new passwords (0: default)

	dummyOnce sync.Once
	dummy     []byte
}

// SetPasswordCost sets the bcrypt cost of passwords set from now on (tests
// use bcrypt.MinCost).
func (s *Store) SetPasswordCost(cost int) {
	s.acc.mu.Lock()
	s.acc.cost = cost
	s.acc.mu.Unlock()
}

// refreshAccounts re-reads the accounts if their version changed.
func (s *Store) refreshAccounts() error {
	v, err := s.version("accounts")
	if err != nil {
		return fmt.Errorf("history store %s: cannot read the accounts: %w", s.path, err)
	}
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	if s.acc.loaded && v == s.acc.version {
		return nil
	}
	rows, err := s.rdb.Query(`SELECT name, hash, roles FROM accounts`)
	if err != nil {
		return fmt.Errorf("history store %s: cannot read the accounts: %w", s.path, err)
	}
	defer rows.Close()
	users := map[string]accounts.User{}
	for rows.Next() {
		var u accounts.User
		var roles int64
		if err := rows.Scan(&u.Name, &u.Hash, &roles); err != nil {
			return err
		}
		u.Roles = proto.Role(roles)
		users[u.Name] = u
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.acc.users, s.acc.version, s.acc.loaded = users, v, true
	return nil
}

// Version re-reads the accounts if they changed (here or in another
// process) and returns a number that differs whenever they may have.
func (s *Store) Version() (uint64, error) {
	err := s.refreshAccounts()
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	return s.acc.version, err
}

// Has reports whether name is an account (as last read; see Version).
func (s *Store) Has(name string) bool {
	s.acc.mu.Lock()
	loaded := s.acc.loaded
	s.acc.mu.Unlock()
	if !loaded {
		s.refreshAccounts()
	}
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	_, ok := s.acc.users[name]
	return ok
}

// Len returns the number of accounts.
func (s *Store) Len() int {
	s.refreshAccounts()
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	return len(s.acc.users)
}

// Authenticate checks a name and password and returns the user's roles, or
// an error wrapping accounts.ErrAuth. It takes tens of milliseconds
// (bcrypt) and holds no lock while hashing.
func (s *Store) Authenticate(name, password string) (proto.Role, error) {
	if err := s.refreshAccounts(); err != nil {
		return 0, err
	}
	s.acc.mu.Lock()
	u, ok := s.acc.users[name]
	s.acc.mu.Unlock()
	if !ok {
		s.acc.dummyOnce.Do(func() {
			s.acc.dummy, _ = bcrypt.GenerateFromPassword([]byte("no such user, no such password"), max(s.acc.cost, bcrypt.MinCost))
		})
		bcrypt.CompareHashAndPassword(s.acc.dummy, []byte(password))
		return 0, accounts.ErrAuth
	}
	if bcrypt.CompareHashAndPassword([]byte(u.Hash), []byte(password)) != nil {
		return 0, accounts.ErrAuth
	}
	return u.Roles, nil
}

// Credential returns a user's roles and a stamp that changes whenever their
// password does (see relay.Credentials), or accounts.ErrAuth.
func (s *Store) Credential(name string) (proto.Role, string, error) {
	if err := s.refreshAccounts(); err != nil {
		return 0, "", err
	}
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	u, ok := s.acc.users[name]
	if !ok {
		return 0, "", accounts.ErrAuth
	}
	return u.Roles, u.Hash, nil
}

// List returns the accounts sorted by name (hashes included).
func (s *Store) List() ([]accounts.User, error) {
	if err := s.refreshAccounts(); err != nil {
		return nil, err
	}
	s.acc.mu.Lock()
	defer s.acc.mu.Unlock()
	out := make([]accounts.User, 0, len(s.acc.users))
	for _, u := range s.acc.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Add creates an account; a name that exists is refused with
// accounts.ErrUserExists.
func (s *Store) Add(name, password string, roles proto.Role) error {
	return s.put(name, password, func(accounts.User, bool) (proto.Role, error) { return roles, nil }, false)
}

// Put creates an account or replaces an existing one's password; roles
// gives the roles from the existing entry (exists false for a new one).
func (s *Store) Put(name, password string, roles func(old accounts.User, exists bool) (proto.Role, error)) error {
	return s.put(name, password, roles, true)
}

func (s *Store) put(name, password string, roles func(accounts.User, bool) (proto.Role, error), replace bool) error {
	if err := accounts.CheckName("user", name); err != nil {
		return err
	}
	s.acc.mu.Lock()
	cost := s.acc.cost
	s.acc.mu.Unlock()
	h, err := accounts.HashPassword(password, cost)
	if err != nil {
		return err
	}
	err = s.tx(func(tx *sql.Tx) error {
		var old accounts.User
		var r int64
		err := tx.QueryRow(`SELECT name, hash, roles FROM accounts WHERE name = ?`, name).Scan(&old.Name, &old.Hash, &r)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		old.Roles = proto.Role(r)
		if exists && !replace {
			return fmt.Errorf("%w: %q", accounts.ErrUserExists, name)
		}
		roles, err := roles(old, exists)
		if err != nil {
			return err
		}
		if err := addAccount(tx, accounts.User{Name: name, Hash: string(h), Roles: roles}, s.maxIDTx(tx)); err != nil {
			return err
		}
		return bump(tx, "accounts")
	})
	if err != nil {
		return err
	}
	return s.refreshAccounts()
}

// addAccount inserts or replaces an account; a new account's read position
// starts at upto (it has nothing to catch up from before it existed).
func addAccount(tx *sql.Tx, u accounts.User, upto uint64) error {
	if _, err := tx.Exec(`INSERT INTO accounts(name, hash, roles, created) VALUES(?, ?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET hash = excluded.hash, roles = excluded.roles`,
		u.Name, u.Hash, int64(u.Roles), time.Now().UnixMilli()); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO read_pos(user, upto) VALUES(?, ?) ON CONFLICT(user) DO NOTHING`, u.Name, int64(upto))
	return err
}

// maxIDTx is the highest item id stored or assigned.
func (s *Store) maxIDTx(tx *sql.Tx) uint64 {
	var a sql.NullInt64
	tx.QueryRow(`SELECT MAX(id) FROM items`).Scan(&a)
	hi := uint64(max(a.Int64, 0))
	if !s.opt.NoWriter {
		hi = max(hi, s.LastID())
	}
	return hi
}

// Delete removes an account, its read position and every private text it
// sent or received; accounts.ErrNoUser if there is none.
func (s *Store) Delete(name string) error {
	var removed int64
	err := s.tx(func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM accounts WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %q", accounts.ErrNoUser, name)
		}
		if _, err := tx.Exec(`DELETE FROM read_pos WHERE user = ?`, name); err != nil {
			return err
		}
		res, err = tx.Exec(`DELETE FROM items WHERE kind = ? AND (sender = ? OR recipient = ?)`, KindPrivate, name, name)
		if err != nil {
			return err
		}
		removed, _ = res.RowsAffected()
		return bump(tx, "accounts")
	})
	if err != nil {
		return err
	}
	s.c.Removed[RemovedUser].Add(uint64(removed))
	return s.refreshAccounts()
}
