package jitterbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// TestSeconds shows, for one trace and seed, what the time-stretching
// buffer did second by second: mean current and target delay, and every
// tick at which packets were lost late or dropped (L) or audio concealed
// (C), with the delay and target then. It is a tool for looking into a
// goal a seed misses, not a check:
//
//	JITTERBENCH_SECONDS=mobile:16 go test -run TestSeconds -v ./internal/jitterbench
func TestSeconds(t *testing.T) {
	arg := os.Getenv("JITTERBENCH_SECONDS")
	if arg == "" {
		t.Skip("set JITTERBENCH_SECONDS=trace:seed")
	}
	name, seedText, _ := strings.Cut(arg, ":")
	seed, err := strconv.ParseUint(seedText, 10, 64)
	if err != nil {
		t.Fatalf("JITTERBENCH_SECONDS=%q: want trace:seed, e.g. mobile:16", arg)
	}
	var tr *Trace
	for _, x := range append(StandardTraces(seed), KindTraces(seed)...) {
		if x.Name == name {
			tr = &x
		}
	}
	if tr == nil {
		t.Fatalf("no trace %q", name)
	}
	var (
		prev           jitter.Stats
		sec            time.Duration
		sumCur, sumTgt time.Duration
		n              int
		events         strings.Builder
	)
	observe := func(now time.Duration, st jitter.Stats) {
		sumCur += st.CurrentDelay
		sumTgt += st.TargetDelay
		n++
		if l, c := st.Late+st.Dropped-prev.Late-prev.Dropped, st.Concealed-prev.Concealed; l > 0 || c > 0 {
			fmt.Fprintf(&events, " L%dC%d@%.2f(%v/%v)", l, c, (now - sec).Seconds(),
				st.CurrentDelay.Round(time.Millisecond), st.TargetDelay.Round(time.Millisecond))
		}
		prev = st
		if now+10*time.Millisecond-sec >= time.Second {
			t.Logf("t=%2.0fs delay %3v target %3v%s", sec.Seconds(), (sumCur / time.Duration(n)).Round(time.Millisecond),
				(sumTgt / time.Duration(n)).Round(time.Millisecond), events.String())
			sec += time.Second
			sumCur, sumTgt, n = 0, 0, 0
			events.Reset()
		}
	}
	r := runHark("hark", *tr, 480, true, observe, jitter.WithTimeStretch(true))
	t.Logf("late-loss %.2f%% of received, mean %v after send (ideal %v, on ticks %v), counters %+v",
		r.LateRecvPct, r.MeanSend, Ideal(tr.T), IdealOnTicks(tr.T, 480), r.Stats)
}
