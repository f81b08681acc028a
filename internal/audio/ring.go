//go:build linux || darwin || freebsd || netbsd || openbsd

package audio

/*
#cgo CFLAGS: -std=gnu99 -Wno-unused-result
#cgo linux LDFLAGS: -ldl -lpthread -lm
#include "ring.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/gen2brain/malgo"
	"golang.org/x/sys/unix"
)

// ringAvailable reports whether the ring path can be used: the vendored
// miniaudio header must match the implementation malgo compiled.
var ringAvailable = C.hark_version_ok() != 0 && int(C.hark_device_id_size()) == len(malgo.DeviceID{})

// ringBackend opens streams whose audio thread never calls Go (see ring.c):
// a goroutine per stream moves whole periods between the C ring and the
// data callback, woken through a pipe. It lists devices through malgo.
type ringBackend struct {
	*malgoBackend
}

type ringStream struct {
	c       *C.hark_stream
	capture bool
	period  int
	chunk   int // frames the pump handles per wake-up (capture: delivered; playback: filled)
	target  int // playback: frames kept queued ahead of the device; grows after underruns
	maxTgt  int // playback: the most target may grow to
	ringCap int
	paused  atomic.Bool // mirrors the C flag; playback: the pump stops filling
	lastX   uint64      // playback: xruns seen by the pump
	cb      streamCallbacks
	pr, pw  *os.File
	quit    atomic.Bool
	running bool // pump started; set by start, read by close (same goroutine: the supervisor)
	done    chan struct{}
}

func (b *ringBackend) open(kind Kind, dev *DeviceInfo, p streamParams, cb streamCallbacks) (stream, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	var wfd int
	sc, err := pw.SyscallConn()
	if err == nil {
		err = sc.Control(func(fd uintptr) {
			wfd = int(fd)
			err = unix.SetNonblock(wfd, true)
		})
	}
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	chunk := max(p.chunk, p.periodFrames)
	s := &ringStream{capture: kind == KindCapture, period: p.periodFrames, chunk: chunk, target: chunk,
		maxTgt: chunk + (maxQueuedPeriods-1)*p.periodFrames, cb: cb, pr: pr, pw: pw, done: make(chan struct{})}
	ringFrames := 8 * max(chunk, p.periodFrames)
	wakeAt := chunk // capture: a whole chunk is waiting
	if !s.capture {
		ringFrames = s.maxTgt + p.periodFrames
		wakeAt = s.target - chunk // playback: room for a whole chunk
	}
	s.ringCap = ringFrames
	backs := make([]C.int, len(b.backends))
	for i, x := range b.backends {
		backs[i] = C.int(x)
	}
	var idp unsafe.Pointer
	idsize := 0
	var raw malgo.DeviceID
	if dev != nil {
		var ok bool
		raw, ok = dev.raw.(malgo.DeviceID)
		if !ok {
			pr.Close()
			pw.Close()
			return nil, errors.New("audio: device info was not made by this backend")
		}
		idp = unsafe.Pointer(&raw[0])
		idsize = len(raw)
	}
	var bp *C.int
	if len(backs) > 0 {
		bp = &backs[0]
	}
	capture := C.int(0)
	if s.capture {
		capture = 1
	}
	r := C.hark_open(&s.c, capture, bp, C.int(len(backs)), idp, C.int(idsize),
		C.int(p.periodFrames), C.int(p.periods), C.int(ringFrames), C.int(wfd), C.int(wakeAt))
	if r != 0 {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("cannot open the %s device: %w", kind, malgo.Result(r))
	}
	return s, nil
}

func (s *ringStream) start() error {
	if !s.capture {
		s.fill() // a period queued before the first callback
	}
	if r := C.hark_start(s.c); r != 0 {
		return fmt.Errorf("cannot start the audio device: %w", malgo.Result(r))
	}
	s.running = true
	go s.pump()
	return nil
}

func (s *ringStream) fill() {
	buf := make([]int16, s.period)
	for !s.paused.Load() && int(C.hark_space(s.c)) >= s.period && s.queued() < s.target {
		s.cb.data(int16Bytes(buf), nil, uint32(s.period))
		C.hark_write(s.c, (*C.int16_t)(unsafe.Pointer(&buf[0])), C.int(s.period))
	}
}

// maxQueuedPeriods bounds how far playback may queue ahead of the device:
// the chunk plus this many periods less one.
const maxQueuedPeriods = 3

// queued returns the frames waiting in the playback ring.
func (s *ringStream) queued() int {
	return s.ringCap - int(C.hark_space(s.c))
}

// adapt queues one more period ahead (up to maxQueuedPeriods) when the
// device played silence because the pump was late: a busy machine gets a
// little more latency instead of repeated dropouts. Underruns while the
// device starts (it may ask for its whole buffer at once) do not count.
func (s *ringStream) adapt(callbacks, xruns uint64) {
	if callbacks < 10 {
		s.lastX = xruns
		return
	}
	if xruns > s.lastX && s.target < s.maxTgt {
		s.target += s.period
		C.hark_set_wake(s.c, C.int(s.target-s.chunk))
	}
	s.lastX = xruns
}

// setPaused pauses or resumes the stream (see hark_set_paused); resuming
// playback wakes the pump to fill the ring at once.
func (s *ringStream) setPaused(p bool) {
	s.paused.Store(p)
	v := C.int(0)
	if p {
		v = 1
	}
	C.hark_set_paused(s.c, v)
	if !p && !s.capture {
		C.hark_wake(s.c)
	}
}

// deviceCallbacks counts the audio thread's callbacks, paused or not (for
// stall detection: a paused stream's pump does not run).
func (s *ringStream) deviceCallbacks() uint64 {
	var cbs, xruns C.uint64_t
	var st C.int
	C.hark_poll(s.c, &cbs, &xruns, &st)
	return uint64(cbs)
}

// meanSquare is the mean square of the last device callback's samples
// (capture), measured on the audio thread.
func (s *ringStream) meanSquare() float64 { return float64(C.hark_mean_square(s.c)) }

func (s *ringStream) pump() {
	defer close(s.done)
	wake := make([]byte, 64)
	buf := make([]int16, s.period)
	if s.capture {
		buf = make([]int16, s.chunk)
	}
	stopped := false
	for {
		if _, err := s.pr.Read(wake); err != nil || s.quit.Load() {
			return
		}
		if s.capture {
			for int(C.hark_read(s.c, (*C.int16_t)(unsafe.Pointer(&buf[0])), C.int(len(buf)))) == len(buf) {
				s.cb.data(nil, int16Bytes(buf), uint32(len(buf)))
			}
		} else {
			for !s.paused.Load() && int(C.hark_space(s.c)) >= s.period && s.queued() < s.target {
				s.cb.data(int16Bytes(buf), nil, uint32(s.period))
				C.hark_write(s.c, (*C.int16_t)(unsafe.Pointer(&buf[0])), C.int(s.period))
			}
		}
		var cbs, xruns C.uint64_t
		var st C.int
		C.hark_poll(s.c, &cbs, &xruns, &st)
		if !s.capture {
			s.adapt(uint64(cbs), uint64(xruns))
		}
		if st != 0 && !stopped {
			stopped = true
			if s.cb.stopped != nil {
				s.cb.stopped()
			}
		}
	}
}

func (s *ringStream) close() {
	s.quit.Store(true)
	C.hark_stop(s.c) // no callbacks (and no pipe writes) after this
	if s.running {
		s.pw.Write([]byte{0})
		<-s.done
	}
	C.hark_close(s.c)
	s.pr.Close()
	s.pw.Close()
}

func int16Bytes(s []int16) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 2*len(s))
}

// simulateLoss stops the device behind the stream's back, as unplugging
// does; for tests.
func (s *ringStream) simulateLoss() { C.hark_stop_device(s.c) }

func (s *ringStream) xruns() uint64 {
	var cbs, xr C.uint64_t
	var st C.int
	C.hark_poll(s.c, &cbs, &xr, &st)
	return uint64(xr)
}
