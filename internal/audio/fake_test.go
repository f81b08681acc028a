package audio

import (
	"errors"
	"sync"
	"unsafe"
)

// fakeBackend stands in for miniaudio. Devices can be plugged and unplugged;
// opened streams are announced on the opened channel, and the test plays the
// audio thread by calling their callbacks.
type fakeBackend struct {
	mu       sync.Mutex // guards the fields below
	devs     []DeviceInfo
	attempts int
	failOpen error

	opened chan *fakeStream
}

func newFakeBackend(devs ...DeviceInfo) *fakeBackend {
	return &fakeBackend{devs: devs, opened: make(chan *fakeStream, 16)}
}

func (f *fakeBackend) plug(d DeviceInfo) {
	f.mu.Lock()
	f.devs = append(f.devs, d)
	f.mu.Unlock()
}

func (f *fakeBackend) unplugAll() {
	f.mu.Lock()
	f.devs = nil
	f.mu.Unlock()
}

func (f *fakeBackend) openAttempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts
}

func (f *fakeBackend) devices(kind Kind) ([]DeviceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []DeviceInfo
	for _, d := range f.devs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeBackend) open(kind Kind, dev *DeviceInfo, p streamParams, cb streamCallbacks) (stream, error) {
	f.mu.Lock()
	f.attempts++
	err := f.failOpen
	if dev == nil && len(f.devs) == 0 {
		err = errors.New("fake: no default device")
	}
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s := &fakeStream{kind: kind, dev: dev, params: p, cb: cb}
	f.opened <- s
	return s, nil
}

type fakeStream struct {
	kind   Kind
	dev    *DeviceInfo
	params streamParams
	cb     streamCallbacks

	mu      sync.Mutex // guards started, closed
	started bool
	closed  bool
}

func (s *fakeStream) start() error {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return nil
}

func (s *fakeStream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	if s.started && s.cb.stopped != nil {
		s.cb.stopped() // miniaudio calls the stop callback on uninit too
	}
}

func (s *fakeStream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// captureBytes runs the capture data callback with samples as the input.
func (s *fakeStream) captureBytes(samples []int16) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(&samples[0])), 2*len(samples))
	s.cb.data(nil, b, uint32(len(samples)))
}

// playBytes runs the playback data callback for n samples and returns them.
func (s *fakeStream) play(n int) []int16 {
	out := make([]int16, n)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 2*n)
	s.cb.data(b, nil, uint32(n))
	return out
}
