package knownrelays

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/certs"
)

func TestAddLookupCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "known_relays")
	f := Open(path)
	if _, ok, err := f.Lookup("a:4275"); ok || err != nil {
		t.Fatalf("empty file: ok=%v err=%v", ok, err)
	}
	if err := f.Add("a:4275", "SHA256:aaa"); err != nil {
		t.Fatal(err)
	}
	if err := f.Add("b:4275", "SHA256:bbb"); err != nil {
		t.Fatal(err)
	}
	e, ok, err := f.Lookup("b:4275")
	if err != nil || !ok || e.Fingerprint != "SHA256:bbb" {
		t.Fatalf("lookup b: %+v %v %v", e, ok, err)
	}
	if known, err := f.Check("a:4275", "SHA256:aaa"); !known || err != nil {
		t.Fatalf("check match: %v %v", known, err)
	}
	if known, err := f.Check("c:4275", "SHA256:ccc"); known || err != nil {
		t.Fatalf("check unknown: %v %v", known, err)
	}
	known, err := f.Check("b:4275", "SHA256:zzz")
	var me *MismatchError
	if !known || !errors.As(err, &me) {
		t.Fatalf("check mismatch: %v %v", known, err)
	}
	msg := err.Error()
	for _, want := range []string{"SHA256:bbb", "SHA256:zzz", path, "line 4"} {
		if !strings.Contains(msg, want) {
			t.Errorf("mismatch message lacks %q:\n%s", want, msg)
		}
	}
	if err := f.Add("x y", "SHA256:q"); err == nil {
		t.Error("address with a space accepted")
	}
}

func TestCommentsAndBadLinesSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	os.WriteFile(path, []byte("# c\n\nonlyonefield\n  r:1   SHA256:x  extra\n"), 0o600)
	e, ok, err := Open(path).Lookup("r:1")
	if err != nil || !ok || e.Fingerprint != "SHA256:x" || e.Line != 4 {
		t.Fatalf("%+v %v %v", e, ok, err)
	}
}

func TestFingerprintMatchesRelay(t *testing.T) {
	c, err := certs.InMemory()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Fingerprint(c.Certificate[0]), certs.FingerprintOf(c); got != want {
		t.Errorf("Fingerprint = %q, relay prints %q", got, want)
	}
}
