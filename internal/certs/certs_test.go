package certs

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c1, created, err := LoadOrCreate(dir, "relay")
	if err != nil || !created {
		t.Fatalf("first: created=%v err=%v", created, err)
	}
	_, kf := Paths(dir, "relay")
	st, err := os.Stat(kf)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	c2, created, err := LoadOrCreate(dir, "relay")
	if err != nil || created {
		t.Fatalf("second: created=%v err=%v", created, err)
	}
	f1, f2 := FingerprintOf(c1), FingerprintOf(c2)
	if f1 != f2 || !strings.HasPrefix(f1, "SHA256:") || len(f1) != len("SHA256:")+43 {
		t.Fatalf("fingerprints %q %q", f1, f2)
	}
	cf, _ := Paths(dir, "relay")
	f3, err := ReadFingerprint(cf)
	if err != nil || f3 != f1 {
		t.Fatalf("ReadFingerprint = %q, %v; want %q", f3, err, f1)
	}
	os.Remove(kf)
	if _, _, err := LoadOrCreate(dir, "relay"); err == nil {
		t.Fatal("certificate without key was accepted")
	}
}

func TestPinned(t *testing.T) {
	a, err := InMemory()
	if err != nil {
		t.Fatal(err)
	}
	b, err := InMemory()
	if err != nil {
		t.Fatal(err)
	}
	v := VerifyPinned(FingerprintOf(a))
	if err := v([][]byte{a.Certificate[0]}, nil); err != nil {
		t.Fatalf("own cert refused: %v", err)
	}
	if err := v([][]byte{b.Certificate[0]}, nil); !errors.Is(err, ErrMismatch) {
		t.Fatalf("other cert: %v", err)
	}
	if err := v(nil, nil); err == nil {
		t.Fatal("no cert accepted")
	}
	var _ *tls.Config = PinnedClientConfig("x", "hark/1")
}

func TestCheckFingerprint(t *testing.T) {
	c, err := InMemory()
	if err != nil {
		t.Fatal(err)
	}
	good := FingerprintOf(c)
	if err := CheckFingerprint(good); err != nil {
		t.Errorf("%s: %v", good, err)
	}
	for _, bad := range []string{
		"garbage", "", "SHA256:", "sha256:" + good[7:], good[7:], good + "A", good[:len(good)-1],
		"SHA256:" + strings.Repeat("!", 43), good + "=",
		"SHA256:" + strings.Repeat("A", 42) + "B", // non-zero padding bits: no SHA-256 sum encodes so
	} {
		err := CheckFingerprint(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"SHA256:" followed by 43 characters`) || !strings.Contains(msg, "relay fingerprint") {
			t.Errorf("%q: unclear error %q", bad, msg)
		}
	}
}
