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
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gen2brain/malgo"
	"golang.org/x/sys/unix"
)

// ringAvailable reports whether the ring path can be used: the vendored
// miniaudio header must match the implementation malgo compiled.
var ringAvailable = C.hark_version_ok() != 0 && int(C.hark_device_id_size()) == len(malgo.DeviceID{})

// ringBackend opens streams whose audio thread never calls Go (see ring.c):
// a goroutine per stream moves whole chunks between the C rings and the
// data callback, woken through a pipe. It lists devices through malgo.
type ringBackend struct {
	*malgoBackend
}

// ringStream is one device with a capture half, a playback half or both
// (duplex). Its data callback gets (nil, in) for captured chunks and
// (out, nil) for playback periods.
type ringStream struct {
	c        *C.hark_stream
	hasCap   bool
	hasPlay  bool
	period   int
	capChunk int          // capture: frames delivered per wake-up
	chunk    int          // playback: frames filled per wake-up
	q        queueTarget  // playback: frames kept queued ahead of the device (pump only)
	delay    atomic.Int64 // playback: output delay of the period being filled, ns (see outputDelay)
	ringCap  int          // playback ring size

	capPaused, playPaused atomic.Bool // mirror the C flags

	cb     streamCallbacks
	pr, pw *os.File

	// mu guards freed. The methods other goroutines call (the capture
	// side of a duplex device, Stats, pausing, the level meter, tests)
	// hold it for reading while they use s.c; close sets freed under it
	// before it frees s.c, so none of them runs on a freed stream. The
	// pump and the supervisor's start and close use s.c without it.
	mu    sync.RWMutex
	freed bool

	quit    atomic.Bool
	running bool // pump started; set by start, read by close (same goroutine: the supervisor)
	done    chan struct{}
}

func (b *ringBackend) open(kind Kind, dev *DeviceInfo, p streamParams, cb streamCallbacks) (stream, error) {
	if kind == KindCapture {
		return b.openRing(true, false, dev, nil, p.periodFrames, p.periods, p.chunk, 0, cb)
	}
	return b.openRing(false, true, nil, dev, p.periodFrames, p.periods, 0, p.chunk, cb)
}

// openDuplex opens capture and playback as one device (one audio thread,
// one wake-up per chunk for both).
func (b *ringBackend) openDuplex(capDev, playDev *DeviceInfo, p streamParams, capChunk int, cb streamCallbacks) (stream, error) {
	return b.openRing(true, true, capDev, playDev, p.periodFrames, p.periods, capChunk, p.chunk, cb)
}

func rawID(dev *DeviceInfo) (unsafe.Pointer, *malgo.DeviceID, error) {
	if dev == nil {
		return nil, nil, nil
	}
	raw, ok := dev.raw.(malgo.DeviceID)
	if !ok {
		return nil, nil, errors.New("audio: device info was not made by this backend")
	}
	return unsafe.Pointer(&raw[0]), &raw, nil
}

func (b *ringBackend) openRing(hasCap, hasPlay bool, capDev, playDev *DeviceInfo, period, periods, capChunk, playChunk int, cb streamCallbacks) (stream, error) {
	capID, capRaw, err := rawID(capDev)
	if err != nil {
		return nil, err
	}
	playID, playRaw, err := rawID(playDev)
	if err != nil {
		return nil, err
	}
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
	s := &ringStream{hasCap: hasCap, hasPlay: hasPlay, period: period,
		capChunk: max(capChunk, period), chunk: max(playChunk, period),
		cb: cb, pr: pr, pw: pw, done: make(chan struct{})}
	s.q = newQueueTarget(s.chunk, s.chunk+(maxQueuedPeriods-1)*period, period)
	s.ringCap = s.q.max + period
	capRing := 8 * s.capChunk
	backs := make([]C.int, len(b.backends))
	for i, x := range b.backends {
		backs[i] = C.int(x)
	}
	var bp *C.int
	if len(backs) > 0 {
		bp = &backs[0]
	}
	r := C.hark_open(&s.c, cbool(hasCap), cbool(hasPlay), bp, C.int(len(backs)), capID, playID,
		C.int(len(malgo.DeviceID{})), C.int(period), C.int(periods), C.int(capRing), C.int(s.ringCap),
		C.int(wfd), C.int(s.capChunk), C.int(s.q.target-s.chunk))
	runtime.KeepAlive(capRaw)
	runtime.KeepAlive(playRaw)
	if r != 0 {
		pr.Close()
		pw.Close()
		what := "playback"
		switch {
		case hasCap && hasPlay:
			what = "capture and playback"
		case hasCap:
			what = "capture"
		}
		return nil, fmt.Errorf("cannot open the %s device: %w", what, malgo.Result(r))
	}
	return s, nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func (s *ringStream) start() error {
	if s.hasPlay {
		s.fill() // a chunk queued before the first callback
	}
	if r := C.hark_start(s.c); r != 0 {
		return fmt.Errorf("cannot start the audio device: %w", malgo.Result(r))
	}
	s.running = true
	go s.pump()
	return nil
}

// fill tops the playback ring up to target, a period at a time.
func (s *ringStream) fill() {
	buf := make([]int16, s.period)
	s.fillWith(buf)
}

func (s *ringStream) fillWith(buf []int16) {
	for !s.playPaused.Load() && int(C.hark_space(s.c)) >= s.period && s.queued() < s.q.target {
		s.delay.Store(int64(s.estimateDelay()))
		s.cb.data(int16Bytes(buf), nil, uint32(s.period))
		C.hark_write(s.c, (*C.int16_t)(unsafe.Pointer(&buf[0])), C.int(s.period))
	}
}

// estimateDelay estimates how long from now the first sample of the next
// period written to the ring is heard: the wait for the callback that takes
// it, the periods queued before it, and the device's own period of buffer.
func (s *ringStream) estimateDelay() time.Duration {
	per := time.Duration(s.period) * time.Second / 48000
	var wait time.Duration
	if since := time.Duration(C.hark_since_callback_ns(s.c)); since >= 0 {
		wait = max(0, per-since)
	}
	return wait + time.Duration(s.queued())*time.Second/48000 + per
}

// outputDelay is estimateDelay for the period being filled (valid in the
// data callback).
func (s *ringStream) outputDelay() time.Duration { return time.Duration(s.delay.Load()) }

// maxQueuedPeriods bounds how far playback may queue ahead of the device:
// the chunk plus this many periods less one.
const maxQueuedPeriods = 3

// queued returns the frames waiting in the playback ring.
func (s *ringStream) queued() int {
	return s.ringCap - int(C.hark_space(s.c))
}

// adapt moves the playback queue's target (see queueTarget) after the
// device's counters changed.
func (s *ringStream) adapt(callbacks, xruns uint64) {
	if s.q.update(callbacks, xruns) {
		C.hark_set_wake(s.c, 1, C.int(s.q.target-s.chunk))
	}
}

// setPaused pauses or resumes the stream's main half (playback if it has
// one); see hark_set_paused.
func (s *ringStream) setPaused(p bool) { s.setHalfPaused(s.hasPlay, p) }

// setHalfPaused pauses or resumes one half; resuming playback wakes the
// pump to fill the ring at once.
func (s *ringStream) setHalfPaused(play, p bool) {
	if play {
		s.playPaused.Store(p)
	} else {
		s.capPaused.Store(p)
	}
	s.live(func() {
		C.hark_set_paused(s.c, cbool(play), cbool(p))
		if !p && play {
			C.hark_wake(s.c)
		}
	})
}

func (s *ringStream) poll() (callbacks, capX, playX uint64, stopped bool) {
	var cbs, cx, px C.uint64_t
	var st C.int
	C.hark_poll(s.c, &cbs, &cx, &px, &st)
	return uint64(cbs), uint64(cx), uint64(px), st != 0
}

// deviceCallbacks counts the audio thread's callbacks, paused or not (for
// stall detection: a paused stream's pump does not run).
func (s *ringStream) deviceCallbacks() uint64 {
	var n uint64
	s.live(func() { n, _, _, _ = s.poll() })
	return n
}

// meanSquare is the mean square of the last device callback's input,
// measured on the audio thread.
func (s *ringStream) meanSquare() float64 {
	var ms float64
	s.live(func() { ms = float64(C.hark_mean_square(s.c)) })
	return ms
}

// xruns counts the samples lost in the main half's ring.
func (s *ringStream) xruns() uint64 { return s.halfXruns(s.hasPlay) }

func (s *ringStream) halfXruns(play bool) uint64 {
	var cx, px uint64
	s.live(func() { _, cx, px, _ = s.poll() })
	if play {
		return px
	}
	return cx
}

// ringHalf is the capture half of a duplex stream as the capture side's
// supervisor sees it; the playback side owns (starts, closes) the stream.
type ringHalf struct{ rs *ringStream }

func (h ringHalf) start() error            { return nil }
func (h ringHalf) close()                  {}
func (h ringHalf) setPaused(p bool)        { h.rs.setHalfPaused(false, p) }
func (h ringHalf) xruns() uint64           { return h.rs.halfXruns(false) }
func (h ringHalf) deviceCallbacks() uint64 { return h.rs.deviceCallbacks() }
func (h ringHalf) meanSquare() float64     { return h.rs.meanSquare() }

func (s *ringStream) pump() {
	defer close(s.done)
	wake := make([]byte, 64)
	var capBuf, playBuf []int16
	if s.hasCap {
		capBuf = make([]int16, s.capChunk)
	}
	if s.hasPlay {
		playBuf = make([]int16, s.period)
	}
	stopped := false
	for {
		if _, err := s.pr.Read(wake); err != nil || s.quit.Load() {
			return
		}
		if s.hasCap && !s.capPaused.Load() {
			for int(C.hark_read(s.c, (*C.int16_t)(unsafe.Pointer(&capBuf[0])), C.int(len(capBuf)))) == len(capBuf) {
				s.cb.data(nil, int16Bytes(capBuf), uint32(len(capBuf)))
			}
		}
		if s.hasPlay {
			s.fillWith(playBuf)
		}
		cbs, _, px, st := s.poll()
		if s.hasPlay {
			s.adapt(cbs, px)
		}
		if st && !stopped {
			stopped = true
			if s.cb.stopped != nil {
				s.cb.stopped()
			}
		}
	}
}

// live runs f with s.c while it is not freed (see mu) and reports whether
// it ran.
func (s *ringStream) live(f func()) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.freed {
		return false
	}
	f()
	return true
}

func (s *ringStream) close() {
	s.mu.Lock()
	s.freed = true // waits for the users of s.c outside the pump
	s.mu.Unlock()
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

// audioThreadCPU is the CPU time used so far by the stream's audio thread
// (Linux, from /proc's schedstat; 0 if unknown).
func (s *ringStream) audioThreadCPU() time.Duration {
	var tid int
	s.live(func() { tid = int(C.hark_audio_tid(s.c)) })
	if tid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(ns)
}

// simulateLoss stops the device behind the stream's back, as unplugging
// does; for tests. The stop notification reaches the supervisor while
// miniaudio's stop still waits for the audio thread, so close waits for it
// (mu); a stream already closed (say, replaced after a stall) is left
// alone.
func (s *ringStream) simulateLoss() {
	s.live(func() { C.hark_stop_device(s.c) })
}
