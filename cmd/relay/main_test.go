package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/clitest"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

func TestFlagsFirst(t *testing.T) {
	got := flagsFirst([]string{"relay", "user", "add", "alice", "--roles", "page,admin", "--data", "d"})
	want := []string{"relay", "user", "add", "--roles", "page,admin", "--data", "d", "alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("%q", got)
	}
	same := []string{"relay", "--open", "--data", "x"}
	if !slices.Equal(flagsFirst(same), same) {
		t.Fatal("serve args changed")
	}
}

func TestFingerprintCommand(t *testing.T) {
	dir := t.TempDir()
	// Without --create a directory with no certificate is an error (a
	// mistyped --data must not make a second certificate).
	err := app().Run([]string{"relay", "fingerprint", "--data", dir})
	if err == nil || !strings.Contains(err.Error(), "no relay certificate in "+dir) {
		t.Fatalf("fingerprint of an empty directory: %v", err)
	}
	cf, _ := certs.Paths(dir, "relay")
	if _, err := os.Stat(cf); err == nil {
		t.Fatal("made a certificate without --create")
	}
	if err := app().Run([]string{"relay", "fingerprint", "--create", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if err := app().Run([]string{"relay", "fingerprint", "--data", dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cf); err != nil {
		t.Fatal(err)
	}
	if err := app().Run([]string{"relay", "user", "list", "--data", filepath.Join(dir, "none")}); err != nil {
		t.Fatal(err)
	}
}

func TestListenFlag(t *testing.T) {
	dir := t.TempDir()
	err := app().Run([]string{"relay", "--open", "--data", dir, "--listen", "127.0.0.1:nope"})
	if err == nil || !strings.Contains(err.Error(), "--listen") || !strings.Contains(err.Error(), "port must be a number") {
		t.Fatalf("bad --listen: %v", err)
	}
}

// --udp-batch works on IPv4 sockets only: an IPv6 --listen address is
// refused with a message that says what to give instead.
func TestUDPBatchNeedsIPv4(t *testing.T) {
	dir := t.TempDir()
	err := app().Run([]string{"relay", "--open", "--data", dir, "--udp-batch", "--listen", "[::1]:0"})
	if err == nil || !strings.Contains(err.Error(), "--udp-batch") || !strings.Contains(err.Error(), "IPv4 --listen address") {
		t.Fatalf("--udp-batch on IPv6: %v", err)
	}
}

// withStdin runs f with standard input reading s.
func withStdin(t *testing.T, s string, f func() error) error {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.WriteString(s); w.Close() }()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	return f()
}

// relay user add refuses a name that exists (a typo must not overwrite
// someone's account) and says how to change a password; --reset-password
// does, keeping the user's roles.
func TestUserAddExisting(t *testing.T) {
	dir := t.TempDir()
	add := func(pw string, args ...string) error {
		return withStdin(t, pw+"\n", func() error {
			return app().Run(flagsFirst(append([]string{"relay", "user", "add", "alice", "--data", dir}, args...)))
		})
	}
	if err := add("first", "--roles", "admin"); err != nil {
		t.Fatal(err)
	}
	err := add("second")
	if err == nil || !strings.Contains(err.Error(), "alice already exists") || !strings.Contains(err.Error(), "--reset-password") {
		t.Fatalf("second add: %v", err)
	}
	st, err := store.Open(filepath.Join(dir, store.FileName), store.Options{NoWriter: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if roles, err := st.Authenticate("alice", "first"); err != nil || roles != proto.RoleAdmin {
		t.Fatalf("after the refused add: %v %v", roles, err)
	}
	if err := add("second", "--reset-password"); err != nil {
		t.Fatal(err)
	}
	if roles, err := st.Authenticate("alice", "second"); err != nil || roles != proto.RoleAdmin {
		t.Fatalf("after --reset-password: %v %v", roles, err)
	}
	if err := add("third", "--reset-password", "--roles", "page"); err != nil {
		t.Fatal(err)
	}
	if roles, err := st.Authenticate("alice", "third"); err != nil || roles != proto.RolePage {
		t.Fatalf("after --reset-password --roles page: %v %v", roles, err)
	}
}

// relay --help (and its commands' help) shows each flag with one
// placeholder word and one default.
func TestHelpText(t *testing.T) {
	for _, p := range clitest.FlagProblems(app()) {
		t.Error(p)
	}
}
