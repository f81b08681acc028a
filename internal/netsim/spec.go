package netsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Presets are the named network conditions used by the benchmarks and
// accepted by ParseSpec.
//
//	lan     1 ms ± 0.5 ms, no loss
//	wifi    5 ms + 20 ms heavy-tailed jitter, 1% loss
//	mobile  40 ms + 60 ms heavy-tailed jitter, 5% bursty loss (bursts of 3)
//	spike   lan-like, with a 300 ms stall at 10 s
var Presets = []string{"lan", "wifi", "mobile", "spike"}

// Preset returns a named condition (see Presets) with the given seed.
func Preset(name string, seed uint64) (Config, error) {
	switch name {
	case "lan":
		return Config{Seed: seed, Delay: Uniform{Min: 500 * time.Microsecond, Max: 1500 * time.Microsecond}}, nil
	case "wifi":
		return Config{Seed: seed, Delay: &Jitter{Base: 5 * time.Millisecond, Sigma: 20 * time.Millisecond, TailProb: 0.03, Alpha: 2.5, Correlation: 0.3},
			Loss: Bernoulli{P: 0.01}}, nil
	case "mobile":
		return Config{Seed: seed, Delay: &Jitter{Base: 40 * time.Millisecond, Sigma: 60 * time.Millisecond, TailProb: 0.03, Alpha: 2.5, Correlation: 0.5},
			Loss: NewBurstyLoss(0.05, 3)}, nil
	case "spike":
		return Config{Seed: seed, Delay: Spike{Base: Uniform{Min: 2 * time.Millisecond, Max: 4 * time.Millisecond}, At: 10 * time.Second, Height: 300 * time.Millisecond}}, nil
	}
	return Config{}, fmt.Errorf("netsim: unknown network preset %q (known: %s)", name, strings.Join(Presets, ", "))
}

// ParseSpec parses a network description for command-line flags: either a
// preset name, or comma-separated settings, optionally after a preset:
//
//	delay=20ms        base one-way delay
//	jitter=30ms       heavy-tailed jitter scale (Jitter.Sigma)
//	uniform=10ms      uniform extra delay in [0, 10ms] instead of heavy-tailed
//	loss=5%           independent loss
//	burst=3           make the loss bursty with this mean burst length
//	dup=1%            duplicate probability
//	reorder=2%        probability of holding a packet back by reorder-delay
//	reorder-delay=40ms
//	spike=300ms@10s   a stall of 300 ms at 10 s
//
// Example: "loss=5%,burst=3,jitter=30ms". The result makes a fresh,
// independent model for each seed.
func ParseSpec(spec string) (func(seed uint64) Config, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return func(seed uint64) Config { return Config{Seed: seed} }, nil
	}
	var (
		preset                    string
		delay, jit, uni           time.Duration
		haveDelay                 bool
		loss, dup, reorder, burst float64
		reorderDelay              = 40 * time.Millisecond
		spikeH, spikeAt           time.Duration
	)
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			if i == 0 {
				if _, err := Preset(part, 0); err != nil {
					return nil, err
				}
				preset = part
				continue
			}
			return nil, fmt.Errorf("netsim: %q in network spec is not name=value", part)
		}
		var err error
		switch k {
		case "delay":
			delay, err = time.ParseDuration(v)
			haveDelay = true
		case "jitter":
			jit, err = time.ParseDuration(v)
		case "uniform":
			uni, err = time.ParseDuration(v)
		case "loss":
			loss, err = parsePercent(v)
		case "dup":
			dup, err = parsePercent(v)
		case "reorder":
			reorder, err = parsePercent(v)
		case "reorder-delay":
			reorderDelay, err = time.ParseDuration(v)
		case "burst":
			burst, err = strconv.ParseFloat(v, 64)
			if err == nil && burst < 1 {
				err = fmt.Errorf("burst length must be at least 1")
			}
		case "spike":
			h, at, ok := strings.Cut(v, "@")
			if !ok {
				return nil, fmt.Errorf("netsim: spike wants HEIGHT@TIME, like 300ms@10s")
			}
			if spikeH, err = time.ParseDuration(h); err == nil {
				spikeAt, err = time.ParseDuration(at)
			}
		default:
			return nil, fmt.Errorf("netsim: unknown network setting %q (known: delay, jitter, uniform, loss, burst, dup, reorder, reorder-delay, spike)", k)
		}
		if err != nil {
			return nil, fmt.Errorf("netsim: network setting %s=%s: %v", k, v, err)
		}
	}
	return func(seed uint64) Config {
		var c Config
		if preset != "" {
			c, _ = Preset(preset, seed)
		}
		c.Seed = seed
		switch {
		case uni > 0:
			c.Delay = Uniform{Min: delay, Max: delay + uni}
		case jit > 0:
			c.Delay = &Jitter{Base: delay, Sigma: jit, TailProb: 0.03, Alpha: 2.5, Correlation: 0.3}
		case haveDelay:
			c.Delay = Constant{D: delay}
		}
		if spikeH > 0 {
			base := c.Delay
			if base == nil {
				base = Constant{}
			}
			c.Delay = Spike{Base: base, At: spikeAt, Height: spikeH}
		}
		if loss > 0 {
			if burst > 1 {
				c.Loss = NewBurstyLoss(loss, burst)
			} else {
				c.Loss = Bernoulli{P: loss}
			}
		}
		if dup > 0 {
			c.DuplicateProb, c.DuplicateSpread = dup, 20*time.Millisecond
		}
		if reorder > 0 {
			c.ReorderProb, c.ReorderDelay = reorder, reorderDelay
		}
		return c
	}, nil
}

func parsePercent(v string) (float64, error) {
	pct := strings.HasSuffix(v, "%")
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	if err != nil {
		return 0, err
	}
	if pct {
		f /= 100
	}
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("must be between 0 and 100%%")
	}
	return f, nil
}
