//go:build unix

package accounts

import (
	"os"
	"path/filepath"
	"syscall"
)

// keepDirOwner gives a file written by root the owner of its directory. An
// administrator adds users as root (`sudo relay user add … --data
// /var/lib/hark-relay`) while the relay runs as its own user (systemd's
// DynamicUser); a users.json owned by root, mode 0600, would lock the relay
// out of its accounts. Errors are ignored: the file is still written.
func keepDirOwner(path string) {
	if os.Geteuid() != 0 {
		return
	}
	st, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
		_ = os.Chown(path, int(sys.Uid), int(sys.Gid))
	}
}
