package certs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s1, created, err := LoadOrCreateSecret(dir, SecretFile)
	if err != nil || !created || len(s1) != SecretLen {
		t.Fatalf("first: %x %v %v", s1, created, err)
	}
	st, err := os.Stat(filepath.Join(dir, SecretFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v %v", st, err)
	}
	s2, created, err := LoadOrCreateSecret(dir, SecretFile)
	if err != nil || created || !bytes.Equal(s1, s2) {
		t.Fatalf("second: %x %v %v, want %x", s2, created, err, s1)
	}
	// A damaged file is refused and left alone.
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("not hex\n"), 0o600)
	if _, _, err := LoadOrCreateSecret(dir, "bad"); err == nil {
		t.Fatal("damaged secret accepted")
	}
	if b, _ := os.ReadFile(bad); string(b) != "not hex\n" {
		t.Errorf("damaged secret overwritten: %q", b)
	}
}
