package netsim

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Talker describes what a simulated sender transmits.
type Talker struct {
	// ClockRate of timestamps; 0 = 48000.
	ClockRate int
	// Frames is the pattern of packet durations in samples, repeated; empty
	// means 960 (20 ms). {2880} is a browser's 60 ms MediaRecorder packets,
	// {2880, 960, 960, 960} mixes 60 and 20 ms.
	Frames []int
	// Length of the trace (sender's real time).
	Length time.Duration
	// TalkSpurt and Pause make push-to-talk transmissions: talk for
	// TalkSpurt, release for Pause, repeat. TalkSpurt 0 = one continuous
	// transmission.
	TalkSpurt, Pause time.Duration
	// DriftPPM is the sender's clock error in parts per million: +1000 means
	// its sample clock runs 0.1% fast (it sends 1.001 s of audio per real
	// second).
	DriftPPM float64
	// StartSeq and StartTimestamp are the first packet's numbers (set them
	// near 65535 / 2^32 to test wrap-around).
	StartSeq       uint16
	StartTimestamp uint32
}

// Sent is one packet as the sender sent it.
type Sent struct {
	Seq        uint16
	Timestamp  uint32
	Duration   uint32
	Start, End bool
	// Send is when it was sent (real time since the trace began); a packet
	// is sent when its last sample has been captured.
	Send time.Duration
}

// Arrival is one packet delivery at the receiver.
type Arrival struct {
	Index  int           // index into Trace.Sent
	Arrive time.Duration // real time since the trace began
	Copy   bool          // a duplicate delivery
}

// Trace is a sender's packets and their arrivals through a link.
type Trace struct {
	ClockRate int
	Sent      []Sent
	Arrivals  []Arrival // sorted by Arrive
}

// Generate sends t's packets through link and returns the trace.
func Generate(t Talker, link *Link) *Trace {
	rate := t.ClockRate
	if rate == 0 {
		rate = 48000
	}
	frames := t.Frames
	if len(frames) == 0 {
		frames = []int{960}
	}
	tr := &Trace{ClockRate: rate}
	clock := float64(rate) * (1 + t.DriftPPM/1e6) // sender samples per real second
	var (
		seq      = t.StartSeq
		ts       = t.StartTimestamp
		samples  int64 // sender samples elapsed
		fi       int
		inSpurt  time.Duration
		starting = true
		delays   []time.Duration
	)
	for {
		dur := frames[fi%len(frames)]
		fi++
		send := time.Duration(float64(samples+int64(dur)) / clock * float64(time.Second))
		if send > t.Length {
			break
		}
		fdur := time.Duration(float64(dur) / clock * float64(time.Second))
		inSpurt += fdur
		end := t.TalkSpurt > 0 && inSpurt >= t.TalkSpurt
		tr.Sent = append(tr.Sent, Sent{Seq: seq, Timestamp: ts, Duration: uint32(dur), Start: starting, End: end, Send: send})
		starting = false
		seq++
		ts += uint32(dur)
		samples += int64(dur)
		if end {
			// The talker's clock keeps running during the pause.
			ps := int64(float64(t.Pause) / float64(time.Second) * clock)
			ps -= ps % 120
			samples += ps
			ts += uint32(ps)
			inSpurt = 0
			starting = true
		}
	}
	if n := len(tr.Sent); n > 0 {
		tr.Sent[n-1].End = true
	}
	for i, s := range tr.Sent {
		delays = link.Deliver(s.Send, delays[:0])
		for k, d := range delays {
			tr.Arrivals = append(tr.Arrivals, Arrival{Index: i, Arrive: s.Send + d, Copy: k > 0})
		}
	}
	slices.SortStableFunc(tr.Arrivals, func(a, b Arrival) int {
		return int(min(max(a.Arrive-b.Arrive, -1), 1))
	})
	return tr
}

// SentSamples is the total duration of the sent packets in samples.
func (tr *Trace) SentSamples() int64 {
	var n int64
	for _, s := range tr.Sent {
		n += int64(s.Duration)
	}
	return n
}

// Transit returns arrival − send for an arrival.
func (tr *Trace) Transit(a Arrival) time.Duration {
	return a.Arrive - tr.Sent[a.Index].Send
}

// MinTransit is the smallest transit of any arrival (0 with no arrivals).
func (tr *Trace) MinTransit() time.Duration {
	if len(tr.Arrivals) == 0 {
		return 0
	}
	m := tr.Transit(tr.Arrivals[0])
	for _, a := range tr.Arrivals[1:] {
		m = min(m, tr.Transit(a))
	}
	return m
}

// WriteTo writes the trace in a line-based text format:
//
//	netsim-trace 1 <clockrate>
//	S <seq> <timestamp> <duration> <flags: -, s, e or se> <send ns>
//	A <index of sent packet> <arrive ns> <copy: 0|1>
func (tr *Trace) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	var n int64
	c, _ := fmt.Fprintf(bw, "netsim-trace 1 %d\n", tr.ClockRate)
	n += int64(c)
	for _, s := range tr.Sent {
		flags := ""
		if s.Start {
			flags += "s"
		}
		if s.End {
			flags += "e"
		}
		if flags == "" {
			flags = "-"
		}
		c, _ = fmt.Fprintf(bw, "S %d %d %d %s %d\n", s.Seq, s.Timestamp, s.Duration, flags, int64(s.Send))
		n += int64(c)
	}
	for _, a := range tr.Arrivals {
		cp := 0
		if a.Copy {
			cp = 1
		}
		c, _ = fmt.Fprintf(bw, "A %d %d %d\n", a.Index, int64(a.Arrive), cp)
		n += int64(c)
	}
	return n, bw.Flush()
}

// ReadTrace parses what WriteTo wrote. Arrivals are re-sorted by time.
func ReadTrace(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	tr := &Trace{}
	line := 0
	bad := func(msg string) error {
		return fmt.Errorf("netsim: trace line %d: %s", line, msg)
	}
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if line == 1 {
			if len(f) != 3 || f[0] != "netsim-trace" || f[1] != "1" {
				return nil, bad("not a netsim trace (want header \"netsim-trace 1 <clockrate>\")")
			}
			cr, err := strconv.Atoi(f[2])
			if err != nil || cr <= 0 {
				return nil, bad("bad clock rate")
			}
			tr.ClockRate = cr
			continue
		}
		if tr.ClockRate == 0 {
			return nil, bad("missing header")
		}
		nums := make([]int64, 0, 5)
		for i, s := range f[1:] {
			if f[0] == "S" && i == 3 {
				continue
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, bad("bad number " + strconv.Quote(s))
			}
			nums = append(nums, v)
		}
		switch {
		case f[0] == "S" && len(f) == 6:
			flags := f[4]
			tr.Sent = append(tr.Sent, Sent{
				Seq: uint16(nums[0]), Timestamp: uint32(nums[1]), Duration: uint32(nums[2]),
				Start: strings.Contains(flags, "s"), End: strings.Contains(flags, "e"),
				Send: time.Duration(nums[3]),
			})
		case f[0] == "A" && len(f) == 4:
			if nums[0] < 0 || nums[0] >= int64(len(tr.Sent)) {
				return nil, bad("arrival of an unknown packet")
			}
			tr.Arrivals = append(tr.Arrivals, Arrival{Index: int(nums[0]), Arrive: time.Duration(nums[1]), Copy: nums[2] != 0})
		default:
			return nil, bad("unknown record")
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("netsim: reading trace: %w", err)
	}
	if tr.ClockRate == 0 {
		return nil, fmt.Errorf("netsim: empty trace")
	}
	slices.SortStableFunc(tr.Arrivals, func(a, b Arrival) int {
		return int(min(max(a.Arrive-b.Arrive, -1), 1))
	})
	return tr, nil
}
