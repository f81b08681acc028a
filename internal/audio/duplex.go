package audio

// Link makes c and p one duplex device when they start: one audio thread
// and one callback carrying both the captured and the played samples of a
// period, and one wake-up of this process per chunk for both (see
// Capture.Handle and Playback.SetChunk) instead of one each. It reports
// whether they were linked: only ring streams (the default, not Direct) of
// the same backend and period can be.
//
// Call it before starting (or closing) either, then start p before c (a capture started
// first opens a device of its own, and so does p when c was closed before
// p started). p owns the device: it opens it, reopens it when it is lost
// (capture and playback together) and closes it; c.Close only stops the
// deliveries, and c.Frames closes when p closes. If the two cannot be opened as one
// device when p starts (a backend without duplex support, say), each is
// opened on its own, as without Link; once opened together they stay so,
// reopened together.
func Link(c *Capture, p *Playback) bool {
	if c == nil || p == nil {
		return false
	}
	_, cr := c.b.(*ringBackend)
	_, pr := p.b.(*ringBackend)
	if !cr || !pr || c.opts.Backend != p.opts.Backend || c.opts.PeriodFrames != p.opts.PeriodFrames {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.started || p.started || c.closed || p.closed || c.link != nil || p.link != nil {
		return false
	}
	lk := &duplexLink{capture: &c.core}
	c.link, p.link = lk, lk
	return true
}
