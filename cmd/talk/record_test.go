package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/wav"
)

// A recording that never starts (here: a wrong password) leaves an
// existing --out file as it was and creates no new one.
func TestRecordFailureKeepsFiles(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("bob", "b", 0)
	ctx := testCtx(t)
	dir := t.TempDir()
	precious := filepath.Join(dir, "precious.wav")
	if err := os.WriteFile(precious, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runTalk(ctx, t, r, "record", "--user", "bob", "--password", "wrong", "--out", precious, "--duration", "1s")
	if res.code != exitAuth {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "precious" {
		t.Errorf("the existing file is now %q, %v", b, err)
	}
	fresh := filepath.Join(dir, "fresh.wav")
	res = runTalk(ctx, t, r, "record", "--user", "bob", "--password", "wrong", "--out", fresh, "--duration", "1s")
	if res.code != exitAuth {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Lstat(fresh); !os.IsNotExist(err) {
		t.Errorf("a failed recording left %s: %v", fresh, err)
	}
}

// --out naming a device or a directory is refused in words before
// connecting, and the device node is still there afterwards.
func TestRecordRefusesSpecialFiles(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	dir := t.TempDir()
	outs := map[string]string{dir: "is a directory"}
	null := filepath.Join(dir, "null")
	// A character device like /dev/null (1,3), made here so that a bug
	// cannot remove the real one. Only root may make device nodes.
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		outs[null] = "is not a regular file"
	} else {
		t.Logf("no device node (%v): checking /dev/null read-only", err)
	}
	for out, want := range outs {
		res := runTalk(ctx, t, r, "record", "--user", "bob", "--out", out, "--duration", "1s")
		if res.code != exitUsage || !strings.Contains(res.stderr, "talk: --out "+out+" "+want) {
			t.Errorf("--out %s: status %d\n%s", out, res.code, res.stderr)
		}
	}
	if err := checkOutMode("/dev/null", mustStat(t, "/dev/null")); err == nil {
		t.Error("/dev/null accepted as a recording")
	}
	if r.Stats().Logins != 0 {
		t.Error("talk record connected before refusing its --out")
	}
	if fi, err := os.Lstat(null); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("%s is now %v", null, fi.Mode())
	} else if err != nil && len(outs) == 2 {
		t.Errorf("the device node is gone: %v", err)
	}
}

func mustStat(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// --out - writes a WAV stream to standard output, and a named pipe gets
// one too: both decode to the recorded length.
func TestRecordToStdoutAndPipe(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	res := runTalk(ctx, t, r, "record", "--user", "bob", "--out", "-", "--duration", "400ms")
	if res.code != 0 || !strings.Contains(res.stderr, "to standard output") {
		t.Fatalf("status %d\n%s", res.code, res.stderr)
	}
	a, err := wav.Decode(strings.NewReader(res.stdout))
	if err != nil || a.Frames() != 48000*400/1000 {
		t.Fatalf("standard output: %v, %d frames", err, a.Frames())
	}

	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes: %v", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- b
	}()
	res = runTalk(ctx, t, r, "record", "--user", "carol", "--out", fifo, "--duration", "400ms")
	if res.code != 0 {
		t.Fatalf("status %d\n%s", res.code, res.stderr)
	}
	a, err = wav.Decode(bytes.NewReader(<-got))
	if err != nil || a.Frames() != 48000*400/1000 {
		t.Fatalf("named pipe: %v, %v", err, a)
	}
}
