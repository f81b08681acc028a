// Package knownrelays keeps the fingerprints of relays a client has trusted,
// like SSH's known_hosts: the first connection to a relay records its
// certificate's fingerprint, later connections must present the same one.
//
// The file is plain text, one relay per line:
//
//	# comments and blank lines are kept
//	relay.example.org:4275 SHA256:3q2+7w...
//
// The address is written as the user gave it (with the port made explicit),
// so "intercom:4275" and "10.0.0.5:4275" are different entries, as in SSH.
package knownrelays

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Fingerprint returns the fingerprint of a DER-encoded certificate:
// "SHA256:" followed by the unpadded standard base64 of its SHA-256 digest.
// It is the same form the relay prints.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// DefaultPath is the known-relays file used when none is configured:
// $XDG_CONFIG_HOME/hark/known_relays, usually ~/.config/hark/known_relays.
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a configuration directory for the known-relays file: %w (set HOME or name a file)", err)
	}
	return filepath.Join(dir, "hark", "known_relays"), nil
}

// Entry is a fingerprint found in the file, and where.
type Entry struct {
	Relay       string
	Fingerprint string
	File        string
	Line        int // 1-based
}

// MismatchError reports that a relay presented a certificate other than the
// one recorded for it. Its message tells a person what happened and which
// line to edit.
type MismatchError struct {
	Relay string
	Known Entry  // what the file says
	Got   string // what the relay presented
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf(`THE IDENTITY OF RELAY %s HAS CHANGED — refusing to connect.
  recorded fingerprint: %s  (%s, line %d)
  presented now:        %s
Someone may be intercepting the connection, or the relay was given a new certificate.
Ask the relay's operator for its fingerprint (relay fingerprint --data DIR).
If the change is expected, delete line %d of %s, or pass --fingerprint %s.`,
		e.Relay, e.Known.Fingerprint, e.Known.File, e.Known.Line, e.Got,
		e.Known.Line, e.Known.File, e.Got)
}

// File is a known-relays file. Its methods are safe for concurrent use
// within one process; writes append a line, so concurrent processes at worst
// record the same relay twice (the first line wins on lookup).
type File struct {
	path string
	mu   sync.Mutex // serialises appends
}

// Open returns the known-relays file at path. The file need not exist yet.
func Open(path string) *File { return &File{path: path} }

// Path returns the file's path.
func (f *File) Path() string { return f.path }

// Lookup returns the first entry for relay. ok is false if the relay is not
// recorded (including when the file does not exist).
func (f *File) Lookup(relay string) (e Entry, ok bool, err error) {
	fh, err := os.Open(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("reading known relays: %w", err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue // not ours to judge; a person may be mid-edit
		}
		if fields[0] == relay {
			return Entry{Relay: relay, Fingerprint: fields[1], File: f.path, Line: n}, true, nil
		}
	}
	if err := sc.Err(); err != nil {
		return Entry{}, false, fmt.Errorf("reading known relays %s: %w", f.path, err)
	}
	return Entry{}, false, nil
}

// Check compares a presented fingerprint with the file. It returns
// (false, nil) if the relay is unknown, (true, nil) if it matches, and a
// *MismatchError if it differs.
func (f *File) Check(relay, fingerprint string) (known bool, err error) {
	e, ok, err := f.Lookup(relay)
	if err != nil || !ok {
		return false, err
	}
	if e.Fingerprint != fingerprint {
		return true, &MismatchError{Relay: relay, Known: e, Got: fingerprint}
	}
	return true, nil
}

// Add records relay's fingerprint, creating the file and its directory if
// needed.
func (f *File) Add(relay, fingerprint string) error {
	if strings.ContainsAny(relay, " \t\n#") || strings.ContainsAny(fingerprint, " \t\n") {
		return fmt.Errorf("cannot record relay %q with fingerprint %q: spaces are not allowed", relay, fingerprint)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("recording relay fingerprint: %w", err)
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("recording relay fingerprint: %w", err)
	}
	info, _ := fh.Stat()
	var b strings.Builder
	if info != nil && info.Size() == 0 {
		b.WriteString("# Relays trusted by hark clients: address and certificate fingerprint.\n")
		b.WriteString("# Delete a line to trust a relay's new certificate on the next connection.\n")
	}
	fmt.Fprintf(&b, "%s %s\n", relay, fingerprint)
	if _, err := fh.WriteString(b.String()); err != nil {
		fh.Close()
		return fmt.Errorf("recording relay fingerprint in %s: %w", f.path, err)
	}
	return fh.Close()
}
