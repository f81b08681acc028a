// Command audioreport summarises the real-time audio figures that
// `make test-audio` collects (see internal/audiotest: Judge, Figure): for
// each scenario the number of runs, the median, the worst and the best
// run, and whether the median meets the scenario's target. It writes the
// table to a Markdown file, replaces the section between the markers
// "<!-- test-audio:begin -->" and "<!-- test-audio:end -->" in
// BENCHMARKS.md with it, prints it, and exits 1 when a median misses its
// target or when a scenario ran fewer times than asked.
//
//	go run ./internal/tools/audioreport -scores FILE -out REPORT.md -bench BENCHMARKS.md -runs N -command "make test-audio"
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
)

const (
	beginMarker = "<!-- test-audio:begin -->"
	endMarker   = "<!-- test-audio:end -->"
)

func main() {
	scores := flag.String("scores", "", "the scores file the tests wrote (HARK_AUDIO_SCORES)")
	out := flag.String("out", "", "write the report (Markdown) to this file")
	bench := flag.String("bench", "", "replace the test-audio section of this BENCHMARKS.md")
	runs := flag.Int("runs", 0, "how many runs each scenario should have (0: do not check)")
	command := flag.String("command", "make test-audio", "the command that produced the figures, for the report")
	flag.Parse()
	if *scores == "" {
		fmt.Fprintln(os.Stderr, "audioreport: -scores FILE is required (the file make test-audio's tests wrote)")
		os.Exit(2)
	}
	all, err := read(*scores)
	if err != nil {
		fmt.Fprintf(os.Stderr, "audioreport: %v\n", err)
		os.Exit(2)
	}
	rows, failed := summarise(all, *runs)
	text := render(rows, *command)
	fmt.Print(text)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "audioreport: writing the report: %v\n", err)
			os.Exit(2)
		}
	}
	if *bench != "" {
		if err := replaceSection(*bench, text); err != nil {
			fmt.Fprintf(os.Stderr, "audioreport: %v\n", err)
			os.Exit(2)
		}
	}
	if len(failed) > 0 {
		fmt.Printf("\n%d scenario(s) missed their target on the median or ran too few times:\n  %s\n",
			len(failed), strings.Join(failed, "\n  "))
		os.Exit(1)
	}
}

func read(path string) ([]audiotest.Score, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no figures in %s: did the tests run with %s set?", path, audiotest.ScoresEnv)
		}
		return nil, err
	}
	defer f.Close()
	var all []audiotest.Score
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		var s audiotest.Score
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, n, err)
		}
		all = append(all, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%s holds no figures", path)
	}
	return all, nil
}

type row struct {
	scenario            string
	unit                string
	n                   int
	median, worst, best float64
	target              float64
	lower               bool
	beats               string
	verdict             string
}

func summarise(all []audiotest.Score, runs int) ([]row, []string) {
	by := map[string][]audiotest.Score{}
	var names []string
	for _, s := range all {
		if _, ok := by[s.Scenario]; !ok {
			names = append(names, s.Scenario)
		}
		by[s.Scenario] = append(by[s.Scenario], s)
	}
	slices.Sort(names)
	medians := map[string]float64{}
	var rows []row
	for _, name := range names {
		ss := by[name]
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = s.Value
		}
		slices.Sort(v)
		last := ss[len(ss)-1]
		r := row{scenario: name, unit: last.Unit, n: len(v), median: median(v), target: last.Target,
			lower: last.Lower, beats: last.Beats}
		if r.lower {
			r.worst, r.best = v[len(v)-1], v[0]
		} else {
			r.worst, r.best = v[0], v[len(v)-1]
		}
		medians[name] = r.median
		rows = append(rows, r)
	}
	var failed []string
	for i := range rows {
		r := &rows[i]
		var why []string
		if r.target != 0 {
			if (r.lower && r.median > r.target) || (!r.lower && r.median < r.target) {
				why = append(why, fmt.Sprintf("median %s misses the target %s", num(r.median, r.unit), num(r.target, r.unit)))
			}
		}
		if r.beats != "" {
			m, ok := medians[r.beats]
			switch {
			case !ok:
				why = append(why, "no figures for "+r.beats+" to compare with")
			case r.median <= m:
				why = append(why, fmt.Sprintf("median %s does not beat %s's %s", num(r.median, r.unit), r.beats, num(m, r.unit)))
			}
		}
		if runs > 0 && r.n < runs {
			why = append(why, fmt.Sprintf("%d of %d runs recorded (the others failed before their figure)", r.n, runs))
		}
		if len(why) > 0 {
			r.verdict = "MISSED: " + strings.Join(why, "; ")
			failed = append(failed, r.scenario+": "+strings.Join(why, "; "))
		} else if r.target != 0 || r.beats != "" {
			r.verdict = "met"
		}
	}
	return rows, failed
}

func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func num(v float64, unit string) string {
	if unit == "" {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

func render(rows []row, command string) string {
	var b strings.Builder
	host, _ := os.Hostname()
	load, _ := os.ReadFile("/proc/loadavg")
	cpus := cpuModel()
	fmt.Fprintf(&b, "### Real-time audio figures (make test-audio)\n\n")
	fmt.Fprintf(&b, "`%s` on %s, %s; %s; load average at the end: %s.\n",
		command, time.Now().UTC().Format("2006-01-02 15:04 UTC"), host, cpus, strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&b, "Correlations are the realigned envelope correlation with the sent speech (1 = same envelope); ")
	fmt.Fprintf(&b, "delays in ms. Worst is the lowest correlation or the longest delay of the runs. ")
	fmt.Fprintf(&b, "`make test` asserts only that each recording is the same speech (≥ %.1f).\n\n", audiotest.SameSpeech)
	fmt.Fprintf(&b, "| scenario | runs | median | worst | best | target | verdict |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		target := ""
		if r.target != 0 {
			op := "≥"
			if r.lower {
				op = "≤"
			}
			target = op + " " + num(r.target, r.unit)
		}
		if r.beats != "" {
			if target != "" {
				target += ", "
			}
			target += "above " + r.beats
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s |\n", r.scenario, r.n, num(r.median, r.unit),
			num(r.worst, r.unit), num(r.best, r.unit), target, r.verdict)
	}
	return b.String()
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	n, model := 0, ""
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "processor") {
			n++
		}
		if model == "" && strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				model = strings.TrimSpace(v)
			}
		}
	}
	return fmt.Sprintf("%d × %s", n, model)
}

// replaceSection puts text between the markers in the file at path,
// appending the markers at the end when the file has none.
func replaceSection(path, text string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s to put the figures in: %v", path, err)
	}
	s := string(data)
	section := beginMarker + "\n" + text + endMarker
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i >= 0 && j > i {
		s = s[:i] + section + s[j+len(endMarker):]
	} else {
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		s += "\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}
