package certs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretLen is the length in bytes of a secret made by [LoadOrCreateSecret].
const SecretLen = 32

// SecretFile is the name of the relay's session secret in its data
// directory.
const SecretFile = "session.secret"

// LoadOrCreateSecret reads the secret in DIR/NAME (hex, one line), or, when
// the file does not exist, makes SecretLen random bytes, writes them there
// (mode 0600, creating dir with 0700 if needed) and returns them with
// created true. A file that exists but does not hold a secret of at least
// SecretLen bytes is an error, never overwritten.
//
// The relay keys its QUIC stateless resets and its resume tickets with it:
// kept across restarts, it lets clients notice a restart at once and log in
// again without a password check.
func LoadOrCreateSecret(dir, name string) (secret []byte, created bool, err error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		s, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) < SecretLen {
			return nil, false, fmt.Errorf("%s does not hold a secret of %d hex-encoded bytes: remove it to make a new one (clients then need their passwords once more)", path, SecretLen)
		}
		return s, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	s := make([]byte, SecretLen)
	rand.Read(s)
	if err := writeNew(path, []byte(hex.EncodeToString(s)+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) { // made by another process meanwhile
			return LoadOrCreateSecret(dir, name)
		}
		return nil, false, err
	}
	return s, true, nil
}
