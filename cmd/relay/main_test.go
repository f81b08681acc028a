package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
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
