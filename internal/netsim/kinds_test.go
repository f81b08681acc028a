package netsim

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestKindsDeterministicAndSeeded(t *testing.T) {
	for _, k := range Kinds {
		a, b := k.Trace(3), k.Trace(3)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs with the same seed differ", k.Name)
		}
		if c := k.Trace(4); reflect.DeepEqual(a.Arrivals, c.Arrivals) {
			t.Errorf("%s: different seeds gave the same arrivals", k.Name)
		}
		if got, err := KindByName(k.Name); err != nil || got.Name != k.Name {
			t.Errorf("KindByName(%q) = %v, %v", k.Name, got.Name, err)
		}
		if n := len(a.Sent); n < 900 {
			t.Errorf("%s: only %d packets in %v", k.Name, n, KindLength)
		}
	}
	if _, err := KindByName("carrier-pigeon"); err == nil {
		t.Error("unknown kind accepted")
	}
}

func TestPeriodicStalls(t *testing.T) {
	p := &PeriodicStalls{Base: Constant{D: 10 * time.Millisecond}, Period: time.Second, Phase: 500 * time.Millisecond,
		MinHeight: 40 * time.Millisecond, MaxHeight: 100 * time.Millisecond}
	r := rand.New(rand.NewPCG(1, 2))
	if d := p.Delay(r, 400*time.Millisecond); d != 10*time.Millisecond {
		t.Fatalf("before the first stall: %v", d)
	}
	for k := range 5 {
		at := 500*time.Millisecond + time.Duration(k)*time.Second
		release := at + p.Delay(r, at)
		if h := release - at - 10*time.Millisecond; h < 40*time.Millisecond || h > 100*time.Millisecond {
			t.Fatalf("stall %d: height %v", k, h)
		}
		// Everything sent during the stall leaves when it ends.
		mid := at + 30*time.Millisecond
		if got := mid + p.Delay(r, mid); got != release {
			t.Fatalf("stall %d: sent at %v arrives %v, the stall releases at %v", k, mid, got, release)
		}
		if d := p.Delay(r, at+200*time.Millisecond); d != 10*time.Millisecond {
			t.Fatalf("after stall %d: %v", k, d)
		}
	}
}

func TestBufferbloatRampsAndCollapses(t *testing.T) {
	b := Bufferbloat{Base: Constant{D: 20 * time.Millisecond}, Calm: 5 * time.Second, Rate: 0.04, Max: 350 * time.Millisecond}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ at, want time.Duration }{
		{4 * time.Second, 20 * time.Millisecond},
		{6 * time.Second, 60 * time.Millisecond},
		{13*time.Second + 700*time.Millisecond, 368 * time.Millisecond},
		{b.Cycle() + time.Second, 20 * time.Millisecond},
	} {
		if got := b.Delay(r, c.at); got != c.want {
			t.Errorf("at %v: %v, want %v", c.at, got, c.want)
		}
	}
}
