package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

func init() {
	register(&cli.Command{
		Name:  "ping",
		Usage: "measure the path to the relay: round trip, datagram loss, jitter and the estimated mouth-to-ear delay",
		Description: `Sends small datagrams the way voice travels (one every --interval for
--duration); the relay sends each straight back. Prints the round trip
(min, median, 95th percentile, max), how many were lost, the jitter, the
round trip over the control stream, and an estimate of the delay from a
talker's mouth to a listener's ear for people on paths like this one.`,
		Flags: append(commonFlags(),
			&cli.DurationFlag{Name: "duration", Value: 10 * time.Second, Usage: "how long to send probes"},
			&cli.DurationFlag{Name: "interval", Value: 20 * time.Millisecond, Usage: "time between probes (20ms is the pace of voice frames)"},
			&cli.IntFlag{Name: "size", Value: 100, Usage: "bytes per probe (a voice frame is about 100)"}),
		Action: func(cc *cli.Context) error {
			if cc.NArg() != 0 {
				return usagef("ping takes no arguments")
			}
			iv, d := cc.Duration("interval"), cc.Duration("duration")
			if iv < time.Millisecond || iv > 10*time.Second {
				return usagef("--interval must be between 1ms and 10s")
			}
			if d < iv || d > 10*time.Minute {
				return usagef("--duration must be at least one --interval and at most 10m")
			}
			if sz := cc.Int("size"); sz < proto.ProbeHeaderLen || sz > proto.MaxProbeLen {
				return usagef("--size must be between %d and %d bytes", proto.ProbeHeaderLen, proto.MaxProbeLen)
			}
			c, err := connect(cc)
			if err != nil {
				return err
			}
			defer c.Close()
			w := cc.App.Writer
			ctl, err := c.Ping(cc.Context)
			if err != nil {
				return err
			}
			n := int(d / iv)
			fmt.Fprintf(cc.App.ErrWriter, "sending %d probes of %d bytes to %s over %v…\n", n, cc.Int("size"), c.Relay(), d)
			p, err := c.Probe(cc.Context, client.ProbeConfig{Count: n, Interval: iv, Size: cc.Int("size")})
			if errors.Is(err, client.ErrProbeUnsupported) {
				fmt.Fprintf(w, "control stream round trip  %s\n", ms(ctl))
				return err
			}
			if err != nil {
				return err
			}
			writePathStats(w, p, ctl)
			return nil
		},
	})
}

func writePathStats(w interface{ Write([]byte) (int, error) }, p client.PathStats, ctl time.Duration) {
	fmt.Fprintf(w, "round trip     min %s   median %s   p95 %s   max %s\n", ms(p.RTTMin), ms(p.RTTMedian), ms(p.RTTP95), ms(p.RTTMax))
	fmt.Fprintf(w, "loss           %.1f %% (%d of %d probes had no answer", 100*p.Loss(), p.Sent-p.Received, p.Sent)
	if p.Late > 0 {
		fmt.Fprintf(w, "; %d answered more than a second late", p.Late)
	}
	fmt.Fprintln(w, ")")
	fmt.Fprintf(w, "jitter         %s (mean change of the round trip from one probe to the next)\n", ms(p.Jitter))
	fmt.Fprintf(w, "control stream round trip  %s\n", ms(ctl))
	if p.Received > 0 {
		fmt.Fprintf(w, "estimated mouth-to-ear  %s with 20 ms frames, %s with 10 ms frames (talker and listener on paths like this one)\n",
			ms(p.MouthToEar(20*time.Millisecond)), ms(p.MouthToEar(10*time.Millisecond)))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
