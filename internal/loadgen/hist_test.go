package loadgen

import (
	"testing"
	"time"
)

func TestLatHist(t *testing.T) {
	h := newLatHist()
	if h.quantile(0.5) != 0 || h.max() != 0 {
		t.Fatal("an empty histogram must say 0")
	}
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	h.add(-time.Second)    // clock step: counted as 0
	h.add(5 * time.Second) // beyond the span: overflow, still the max
	if got := h.quantile(0.5); got < 49*time.Millisecond || got > 51*time.Millisecond {
		t.Fatalf("p50 %v, want about 50 ms", got)
	}
	if got := h.quantile(0.99); got < 98*time.Millisecond || got > 101*time.Millisecond {
		t.Fatalf("p99 %v, want about 99–100 ms", got)
	}
	if h.quantile(1) != 5*time.Second || h.max() != 5*time.Second {
		t.Fatalf("p100 %v max %v, want 5 s", h.quantile(1), h.max())
	}
}
