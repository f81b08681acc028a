package box

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
)

// TestCheckReady: a box on the null sound backend with voice activation and
// a relay that knows it: every part is ok.
func TestCheckReady(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("door", "secret", 0)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\npassword-file = " + pw +
		"\nfingerprint = " + r.Fingerprint + "\naudio-backend = null\nvad = yes\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	var out bytes.Buffer
	if err := Check(context.Background(), cfg, &out, CheckDeps{}); err != nil {
		t.Fatalf("Check: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	for _, want := range []string{"ok       password", "ok       microphone", "ok       speaker", "ok       hands-free",
		"ok       relay          logged in to " + r.Addr + " as door in channel \"lobby\"", "Everything checked is ready."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "PROBLEM") {
		t.Error("a problem reported on a ready setup")
	}
}

// TestCheckProblems: each broken part is reported with what to do, the
// other parts are still checked, and Check fails.
func TestCheckProblems(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("door", "secret", 0)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\npassword-file = " + pw +
		"\nfingerprint = " + r.Fingerprint + "\naudio-backend = null\ncapture-device = no such microphone\n" +
		"ptt-evdev = " + filepath.Join(dir, "event99") + "\ngpio-chip = " + filepath.Join(dir, "gpiochip9") +
		"\nptt-gpio-line = 17\nled-connected = 5\nreplay-button = 27\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(dir, "known")
	var out bytes.Buffer
	err = Check(context.Background(), cfg, &out, CheckDeps{})
	t.Logf("\n%s", out.String())
	if !errors.Is(err, ErrCheckFailed) {
		t.Fatalf("Check returned %v, want ErrCheckFailed", err)
	}
	for _, want := range []string{
		"PROBLEM  microphone", "no capture device has \"no such microphone\"",
		"ok       speaker",
		"PROBLEM  button (input)", "event99",
		"PROBLEM  button (GPIO)", "PROBLEM  LEDs", "PROBLEM  replay button", "check gpio-chip and replay-button",
		"PROBLEM  relay          wrong user name or password for door", "relay user add NAME",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "Everything checked is ready") {
		t.Error("claims readiness despite problems")
	}
}

// TestPasswordFromCredential: under systemd (LoadCredential=password:…) the
// box reads the credential, since its dynamic user may not read the file
// password-file names; by hand it reads the file.
func TestPasswordFromCredential(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	if err := os.WriteFile(file, []byte("from-file\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{PasswordFile: file}
	if pw, err := password(cfg); err != nil || pw != "from-file" {
		t.Fatalf("by hand: %q, %v", pw, err)
	}
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "password"), []byte("from-credential\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	cfg.PasswordFile = filepath.Join(dir, "not-readable-here")
	if pw, err := password(cfg); err != nil || pw != "from-credential" {
		t.Fatalf("under systemd: %q, %v", pw, err)
	}
	if pw, err := password(Config{Password: "inline"}); err != nil || pw != "inline" {
		t.Fatalf("password setting: %q, %v", pw, err)
	}
}

// TestSampleConfigKeysAreListed: every setting in the shipped sample box.conf
// (commented-out ones too) is one the unknown-setting error lists, and the
// sample itself parses.
func TestSampleConfigKeysAreListed(t *testing.T) {
	b, err := os.ReadFile("../deploy/box.conf")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfig(b); err != nil {
		t.Fatalf("the sample does not parse: %v", err)
	}
	listed := map[string]bool{}
	for _, k := range keys {
		listed[k] = true
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		k, _, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"`'(") {
			continue
		}
		n++
		if !listed[k] {
			t.Errorf("setting %q is in the sample but not in keys (the unknown-setting error's list)", k)
		}
	}
	if n < 20 {
		t.Fatalf("found only %d settings in the sample: the test no longer reads it right", n)
	}
}
