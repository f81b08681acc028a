//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package audio

// The ring path needs POSIX pipes; elsewhere the audio thread calls Go.
var ringAvailable = false

type ringBackend struct {
	*malgoBackend
}
