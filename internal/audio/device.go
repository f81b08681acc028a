package audio

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// core opens one device and keeps it open: a supervisor goroutine reopens
// it (with backoff) when miniaudio reports that it stopped on its own or
// when it stops calling back (stall), until the context ends or Close.
type core struct {
	kind    Kind
	opts    Options
	b       backend
	newData func() func(out, in []byte, frames uint32) // fresh per-stream state
	onExit  func()                                     // runs once after the last stream closed

	callbacks atomic.Uint64 // data callbacks of all streams, for stall detection
	reopens   atomic.Uint64
	losses    atomic.Uint64
	lost      chan *live // cap 1; stop callbacks of streams we did not close
	exitOnce  sync.Once
	cur       atomic.Pointer[live] // the open stream
	xrunsOld  atomic.Uint64        // ring xruns of streams already closed
	chunk     int                  // frames per wake-up (streamParams.chunk); set before Start

	pauseMu sync.Mutex  // serialises pause changes with stream openings
	paused  atomic.Bool // written under pauseMu; applied to every stream opened

	link *duplexLink // set by Link before Start; nil: a device of its own

	mu      sync.Mutex // guards the fields below
	started bool
	closed  bool // Close was called
	cancel  context.CancelFunc
	done    chan struct{}
	current string // description of the open device, "" while none is open
}

// live is one opened stream; closing is set before we close it ourselves so
// that its stop callback is not taken for a loss.
type live struct {
	s        stream
	desc     string
	closing  atomic.Bool
	follower *live // duplex: the capture side's view of the stream
}

func (c *core) init(kind Kind, opts Options, newData func() func(out, in []byte, frames uint32), onExit func()) error {
	c.kind = kind
	c.opts = opts.withDefaults()
	c.newData = newData
	c.onExit = onExit
	c.lost = make(chan *live, 1)
	c.b = opts.backend
	if c.b == nil {
		mb, err := newMalgoBackend(opts.Backend, c.opts.Logger)
		if err != nil {
			return err
		}
		c.b = mb
		if ringAvailable && !opts.Direct {
			c.b = &ringBackend{mb}
		}
	}
	return nil
}

func (c *core) wanted() string {
	if c.opts.Device == "" {
		return "default " + c.kind.String() + " device"
	}
	return c.kind.String() + " device \"" + c.opts.Device + "\""
}

// Start opens the device. If it cannot be opened, Start returns the error,
// unless Options.WaitForDevice is set: then it logs and keeps trying in the
// background. Start may be called once.
func (c *core) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("audio: device already started")
	}
	c.started = true
	c.mu.Unlock()

	if c.link != nil && c.kind == KindCapture && c.link.joinCapture() {
		return nil // the playback side runs the duplex device
	}
	l, err := c.openOnce()
	if err != nil {
		if !c.opts.WaitForDevice {
			c.mu.Lock()
			c.started = false
			c.mu.Unlock()
			return err
		}
		c.opts.Logger.Warn("cannot open the "+c.wanted()+" yet; will keep trying", "err", err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	c.mu.Lock()
	c.cancel, c.done = cancel, done
	c.mu.Unlock()
	go c.supervise(sctx, l, done)
	return nil
}

// Close stops the device and waits until its audio thread and supervisor
// have finished. It is safe to call more than once and before Start.
func (c *core) Close() error {
	c.mu.Lock()
	c.closed = true
	lk := c.link
	c.mu.Unlock()
	if lk != nil && lk.closeSide(c) {
		// A linked capture whose device belongs to the playback side: stop
		// delivering now; Frames closes when the playback closes the
		// device (its pump may be delivering a period right now).
		c.setPaused(true)
		return nil
	}
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel == nil {
		c.exitOnce.Do(c.onExit)
		return nil
	}
	cancel()
	<-done
	return nil
}

// Open reports whether a stream is open now and a description of it.
func (c *core) Open() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.current != "", c.current
}

func (c *core) setCurrent(s string) {
	c.mu.Lock()
	c.current = s
	c.mu.Unlock()
}

func (c *core) openOnce() (*live, error) {
	if lk := c.link; lk != nil && c.kind == KindPlayback {
		lk.mu.Lock()
		defer lk.mu.Unlock()
		switch lk.state {
		case linkPending:
			l, err := c.openDuplexOnce()
			if err == nil {
				lk.state = linkActive
				return l, nil
			}
			lk.state = linkDissolved
			c.opts.Logger.Info("cannot open capture and playback as one device; opening them separately", "err", err)
		case linkActive:
			return c.openDuplexOnce()
		}
	}
	var sel *DeviceInfo
	if c.opts.Device != "" {
		devs, err := c.b.devices(c.kind)
		if err != nil {
			return nil, err
		}
		sel, err = Select(devs, c.kind, c.opts.Device)
		if err != nil {
			return nil, err
		}
	}
	l := &live{desc: "default " + c.kind.String() + " device"}
	if sel != nil {
		l.desc = c.kind.String() + " device \"" + sel.Name + "\" (id " + sel.ID + ")"
	}
	data := c.newData()
	cb := streamCallbacks{
		data: func(out, in []byte, frames uint32) {
			c.callbacks.Add(1)
			data(out, in, frames)
		},
		stopped: func() {
			if l.closing.Load() {
				return
			}
			select {
			case c.lost <- l:
			default:
			}
		},
	}
	s, err := c.b.open(c.kind, sel, streamParams{periodFrames: c.opts.PeriodFrames, periods: c.opts.Periods, chunk: c.chunk}, cb)
	if err != nil {
		return nil, err
	}
	l.s = s
	c.pauseMu.Lock()
	if p, ok := s.(pauser); ok && c.paused.Load() {
		p.setPaused(true)
	}
	c.cur.Store(l)
	c.pauseMu.Unlock()
	if err := s.start(); err != nil {
		l.closing.Store(true)
		c.cur.CompareAndSwap(l, nil)
		s.close()
		return nil, err
	}
	c.setCurrent(l.desc)
	return l, nil
}

// pauser is a stream that can stop waking Go (ring streams).
type pauser interface{ setPaused(bool) }

// setPaused records the pause state and applies it to the open stream (and
// to every stream opened later). It reports whether the state changed.
func (c *core) setPaused(p bool) bool {
	c.pauseMu.Lock()
	defer c.pauseMu.Unlock()
	if c.paused.Load() == p {
		return false
	}
	c.paused.Store(p)
	if l := c.cur.Load(); l != nil {
		if s, ok := l.s.(pauser); ok {
			s.setPaused(p)
		}
	}
	return true
}

// deviceCounter is a stream that counts its audio-thread callbacks itself
// (ring streams, whose pump does not run while paused).
type deviceCounter interface{ deviceCallbacks() uint64 }

// openAs returns the open stream as a T (one of the optional stream
// interfaces), if one is open and it is one.
func openAs[T any](c *core) (T, bool) {
	if l := c.cur.Load(); l != nil {
		t, ok := l.s.(T)
		return t, ok
	}
	var zero T
	return zero, false
}

// progress changes while the open device calls back.
func (c *core) progress() uint64 {
	n := c.callbacks.Load()
	if d, ok := openAs[deviceCounter](c); ok {
		n += d.deviceCallbacks()
	}
	return n
}

// outputDelayer is a stream that estimates its output delay.
type outputDelayer interface{ outputDelay() time.Duration }

// OutputDelay estimates, while FillFunc runs, how long from now the first
// sample of the period being filled will be heard: the wait until the
// device takes it, the audio queued before it, and the device's own buffer
// (one period). It assumes a device that plays one period while the next is
// filled; real sound cards add their converters' delay. Devices that call
// FillFunc on the audio thread (Options.Direct, other backends) report one
// period.
func (c *core) OutputDelay() time.Duration {
	if d, ok := openAs[outputDelayer](c); ok {
		return d.outputDelay()
	}
	return time.Duration(c.opts.PeriodFrames) * time.Second / 48000
}

// threadCPUer is a stream that knows its audio thread's CPU time.
type threadCPUer interface{ audioThreadCPU() time.Duration }

// AudioThreadCPU returns the CPU time used so far by the open device's
// audio thread (the driver's or miniaudio's thread, which copies periods in
// and out; the rest of the process's CPU is ours). It is 0 when no device
// is open, before the first period, or where it cannot be measured (only
// Linux can). A duplex device (Link) reports it on the playback side. For
// measurements: a reopened device starts from 0.
func (c *core) AudioThreadCPU() time.Duration {
	if t, ok := openAs[threadCPUer](c); ok {
		return t.audioThreadCPU()
	}
	return 0
}

func (c *core) closeLive(l *live) {
	l.closing.Store(true)
	if lk := c.link; lk != nil && c.kind == KindPlayback {
		if f := l.follower; f != nil {
			capt := lk.capture
			capt.pauseMu.Lock()
			capt.cur.CompareAndSwap(f, nil)
			capt.pauseMu.Unlock()
			if x, ok := f.s.(xrunner); ok {
				capt.xrunsOld.Add(x.xruns())
			}
			capt.setCurrent("")
		}
	}
	c.cur.CompareAndSwap(l, nil)
	if x, ok := l.s.(xrunner); ok {
		c.xrunsOld.Add(x.xruns())
	}
	l.s.close()
	c.setCurrent("")
}

func (c *core) supervise(ctx context.Context, l *live, done chan struct{}) {
	defer func() {
		if l != nil {
			c.closeLive(l)
		}
		if lk := c.link; lk != nil && c.kind == KindPlayback && lk.isActive() {
			// No duplex stream runs any more: the capture side is done too.
			lk.capture.exitOnce.Do(lk.capture.onExit)
		}
		c.exitOnce.Do(c.onExit)
		close(done)
	}()
	log := c.opts.Logger
	backoff := c.opts.RetryMin
	failures := 0
	var stall *time.Timer
	var stallC <-chan time.Time
	if c.opts.StallTimeout > 0 {
		stall = time.NewTimer(c.opts.StallTimeout)
		defer stall.Stop()
		stallC = stall.C
	}
	last := c.progress()
	lostAt := time.Now()
	for {
		if l == nil {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			nl, err := c.openOnce()
			if err != nil {
				failures++
				if failures == 1 {
					log.Warn("the "+c.wanted()+" is not available; retrying until it returns", "err", err)
				} else {
					log.Debug("audio device still not available", "device", c.wanted(), "attempt", failures, "err", err)
				}
				backoff = min(backoff*2, c.opts.RetryMax)
				continue
			}
			l = nl
			c.reopens.Add(1)
			log.Info("opened the "+l.desc+" again", "after", time.Since(lostAt).Round(time.Millisecond), "attempts", failures+1)
			backoff, failures = c.opts.RetryMin, 0
			last = c.progress()
			if stall != nil {
				stall.Reset(c.opts.StallTimeout)
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case got := <-c.lost:
			if got != l {
				continue // a stream we already replaced
			}
			log.Warn("the " + l.desc + " stopped (unplugged?); reopening it when it returns")
		case <-stallC:
			n := c.progress()
			stall.Reset(c.opts.StallTimeout)
			if n != last {
				last = n
				continue
			}
			log.Warn("the "+l.desc+" stopped delivering audio; reopening it", "silent_for", c.opts.StallTimeout)
		}
		c.losses.Add(1)
		lostAt = time.Now()
		c.closeLive(l)
		l = nil
	}
}

// xrunner is a stream that counts samples lost between the device and its
// ring (ring full on capture, empty on playback).
type xrunner interface{ xruns() uint64 }

// xruns returns the samples lost in rings, all streams together.
func (c *core) xruns() uint64 {
	n := c.xrunsOld.Load()
	if x, ok := openAs[xrunner](c); ok {
		n += x.xruns()
	}
	return n
}

// duplexLink joins a capture and a playback opened as one duplex device
// (Link). The playback side owns the device: it opens, supervises and
// closes it; the capture side only sees its half.
type duplexLink struct {
	mu      sync.Mutex // guards state; held while the playback side decides
	state   linkState
	capture *core
}

type linkState int

const (
	linkPending   linkState = iota // neither started yet
	linkActive                     // the duplex device is in use
	linkDissolved                  // separate devices
)

// joinCapture is the capture side's Start: it reports whether the duplex
// device is in use (then the capture must not open a device of its own).
// A capture started before its playback gets a device of its own.
func (lk *duplexLink) joinCapture() bool {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.state == linkPending {
		lk.state = linkDissolved
	}
	return lk.state == linkActive
}

// closeSide is called by Close of either side: a side closed before the
// duplex device was opened dissolves the link (the other opens a device
// of its own). It reports whether c is a capture whose device belongs to
// the playback side (the link is active).
func (lk *duplexLink) closeSide(c *core) bool {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.state == linkPending {
		lk.state = linkDissolved
	}
	return lk.state == linkActive && c == lk.capture
}

func (lk *duplexLink) isActive() bool {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	return lk.state == linkActive
}

// duplexOpener is a backend that can open duplex streams.
type duplexOpener interface {
	openDuplex(capDev, playDev *DeviceInfo, p streamParams, capChunk int, cb streamCallbacks) (stream, error)
}

// openDuplexOnce opens the linked capture and playback as one device; c is
// the playback side. Called with c.link.mu held.
func (c *core) openDuplexOnce() (*live, error) {
	capt := c.link.capture
	db, ok := c.b.(duplexOpener)
	if !ok {
		return nil, errors.New("this audio backend cannot open duplex devices")
	}
	pick := func(k *core) (*DeviceInfo, error) {
		if k.opts.Device == "" {
			return nil, nil
		}
		devs, err := k.b.devices(k.kind)
		if err != nil {
			return nil, err
		}
		return Select(devs, k.kind, k.opts.Device)
	}
	capSel, err := pick(capt)
	if err != nil {
		return nil, err
	}
	playSel, err := pick(c)
	if err != nil {
		return nil, err
	}
	playDesc, capDesc := "default playback device", "default capture device"
	if playSel != nil {
		playDesc = "playback device \"" + playSel.Name + "\" (id " + playSel.ID + ")"
	}
	if capSel != nil {
		capDesc = "capture device \"" + capSel.Name + "\" (id " + capSel.ID + ")"
	}
	l := &live{desc: playDesc + ", one device with the " + capDesc}
	cl := &live{desc: capDesc + ", one device with the " + playDesc}
	playData, capData := c.newData(), capt.newData()
	cb := streamCallbacks{
		data: func(out, in []byte, frames uint32) {
			if in != nil {
				capt.callbacks.Add(1)
				capData(nil, in, frames)
				return
			}
			c.callbacks.Add(1)
			playData(out, nil, frames)
		},
		stopped: func() {
			if l.closing.Load() {
				return
			}
			select {
			case c.lost <- l:
			default:
			}
		},
	}
	s, err := db.openDuplex(capSel, playSel, streamParams{periodFrames: c.opts.PeriodFrames, periods: c.opts.Periods, chunk: c.chunk}, capt.chunk, cb)
	if err != nil {
		return nil, err
	}
	l.s = s
	rs := s.(*ringStream)
	cl.s = ringHalf{rs}
	l.follower = cl
	capt.pauseMu.Lock()
	if capt.paused.Load() {
		cl.s.(pauser).setPaused(true)
	}
	capt.cur.Store(cl)
	capt.pauseMu.Unlock()
	c.pauseMu.Lock()
	if c.paused.Load() {
		rs.setPaused(true)
	}
	c.cur.Store(l)
	c.pauseMu.Unlock()
	if err := s.start(); err != nil {
		l.closing.Store(true)
		c.cur.CompareAndSwap(l, nil)
		capt.pauseMu.Lock()
		capt.cur.CompareAndSwap(cl, nil)
		capt.pauseMu.Unlock()
		s.close()
		return nil, err
	}
	c.setCurrent(l.desc)
	capt.setCurrent(cl.desc)
	return l, nil
}
