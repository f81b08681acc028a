package netsim

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDeterministic(t *testing.T) {
	for _, name := range Presets {
		gen := func() *Trace {
			cfg, err := Preset(name, 42)
			if err != nil {
				t.Fatal(err)
			}
			return Generate(Talker{Length: 5 * time.Second}, NewLink(cfg))
		}
		a, b := gen(), gen()
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with the same seed differ", name)
		}
		cfg, _ := Preset(name, 43)
		c := Generate(Talker{Length: 5 * time.Second}, NewLink(cfg))
		if name != "lan" && reflect.DeepEqual(a.Arrivals, c.Arrivals) {
			t.Errorf("%s: different seeds gave the same arrivals", name)
		}
	}
}

func TestBurstyLossRateAndBursts(t *testing.T) {
	g := NewBurstyLoss(0.05, 3)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 200000
	lost, bursts, run := 0, 0, 0
	for i := 0; i < n; i++ {
		if g.Lost(r) {
			lost++
			run++
		} else if run > 0 {
			bursts++
			run = 0
		}
	}
	rate := float64(lost) / n
	mean := float64(lost) / float64(bursts)
	if rate < 0.045 || rate > 0.055 || mean < 2.6 || mean > 3.4 {
		t.Fatalf("loss %.3f (want 0.05), mean burst %.2f (want 3)", rate, mean)
	}
}

func TestSpikeStallsAndReleases(t *testing.T) {
	s := Spike{Base: Constant{D: 5 * time.Millisecond}, At: time.Second, Height: 300 * time.Millisecond}
	r := rand.New(rand.NewPCG(1, 2))
	if d := s.Delay(r, 900*time.Millisecond); d != 5*time.Millisecond {
		t.Fatalf("before spike %v", d)
	}
	// Everything sent during the stall arrives at the same moment.
	a1 := time.Second + s.Delay(r, time.Second)
	a2 := 1200*time.Millisecond + s.Delay(r, 1200*time.Millisecond)
	if a1 != a2 || a1 != 1305*time.Millisecond {
		t.Fatalf("release times %v %v, want 1.305s", a1, a2)
	}
}

func TestGenerateFramesDriftAndTalkSpurts(t *testing.T) {
	tr := Generate(Talker{Length: 10 * time.Second, Frames: []int{2880, 960}, TalkSpurt: 2 * time.Second, Pause: time.Second,
		DriftPPM: 1000, StartSeq: 65530, StartTimestamp: 1<<32 - 5000}, NewLink(Config{Seed: 1}))
	starts, ends := 0, 0
	for i, s := range tr.Sent {
		if s.Start {
			starts++
		}
		if s.End {
			ends++
		}
		if i > 0 {
			p := tr.Sent[i-1]
			if s.Seq != p.Seq+1 {
				t.Fatalf("seq %d after %d", s.Seq, p.Seq)
			}
			if !s.Start && s.Timestamp != p.Timestamp+p.Duration {
				t.Fatalf("timestamp gap inside a talk spurt at %d", i)
			}
		}
	}
	if starts != 4 || ends != 4 {
		t.Fatalf("%d starts, %d ends; want 4 transmissions", starts, ends)
	}
	// 0.1% fast: the last packet's audio time runs ahead of real time.
	last := tr.Sent[len(tr.Sent)-1]
	audio := time.Duration(last.Timestamp-tr.Sent[0].Timestamp+last.Duration) * time.Second / 48000
	if ahead := audio - last.Send; ahead < 5*time.Millisecond || ahead > 15*time.Millisecond {
		t.Fatalf("sender clock ahead by %v after %v, want about 10 ms", ahead, last.Send)
	}
}

func TestTraceRoundTrip(t *testing.T) {
	cfg, _ := Preset("mobile", 3)
	cfg.DuplicateProb = 0.05
	tr := Generate(Talker{Length: 3 * time.Second, TalkSpurt: time.Second, Pause: 500 * time.Millisecond}, NewLink(cfg))
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadTrace(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr, back) {
		t.Fatal("trace changed in a write/read round trip")
	}
	for _, bad := range []string{"", "hello\n", "netsim-trace 1 48000\nS 1 2\n", "netsim-trace 1 48000\nA 5 10 0\n", "netsim-trace 1 x\n"} {
		if _, err := ReadTrace(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadTrace(%q) accepted", bad)
		}
	}
}

func TestParseSpec(t *testing.T) {
	f, err := ParseSpec("mobile,loss=10%,burst=2,dup=1%,reorder=2%,spike=300ms@5s")
	if err != nil {
		t.Fatal(err)
	}
	c := f(7)
	if c.Seed != 7 || c.DuplicateProb != 0.01 || c.ReorderProb != 0.02 {
		t.Fatalf("config %+v", c)
	}
	if _, ok := c.Delay.(Spike); !ok {
		t.Fatalf("delay %T, want Spike", c.Delay)
	}
	if g, ok := c.Loss.(*GilbertElliott); !ok || g == f(7).Loss {
		t.Fatal("bursty loss must be a fresh model per call")
	}
	if _, err := ParseSpec("none"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSpec("delay=abc"); err == nil {
		t.Fatal("bad duration accepted")
	}
}

func TestDeliverDuplicatesAndLoss(t *testing.T) {
	l := NewLink(Config{Seed: 1, Loss: Bernoulli{P: 1}})
	if d := l.Deliver(0, nil); len(d) != 0 {
		t.Fatal("lost packet delivered")
	}
	l = NewLink(Config{Seed: 1, DuplicateProb: 1, Delay: Uniform{Min: time.Millisecond, Max: 2 * time.Millisecond}})
	if d := l.Deliver(0, nil); len(d) != 2 || d[0] < time.Millisecond {
		t.Fatalf("duplicate delivery %v", d)
	}
}
