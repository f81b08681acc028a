// Command testsum reads `go test -json` and prints what plain `go test`
// prints (each package's result line, and the whole output of each test
// that failed), so a person reads the usual output while `make test` keeps
// each test's result and time for its summary.
//
// In a stage:
//
//	go test -json ./... | testsum -stage unit -record DIR
//
// It exits 1 when a test or a package failed (or the input ended in the
// middle of a package: a crash or a timeout), 0 otherwise. It appends one
// line per test to DIR/tests.tsv: stage, package, test, result, seconds.
//
// At the end of `make test`:
//
//	testsum -summary -record DIR -stages "hygiene=0 unit=1 e2e=0"
//
// prints the ten slowest tests, each stage's result, and the closing line
// "N passed, N failed, N skipped"; it exits 1 when a stage failed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Time       time.Time
	Action     string
	Package    string
	ImportPath string // build-output, build-fail
	Test       string
	Elapsed    float64
	Output     string
}

func main() {
	stage := flag.String("stage", "", "name of the stage whose go test -json output arrives on stdin")
	record := flag.String("record", "", "directory for tests.tsv")
	summary := flag.Bool("summary", false, "print the summary of all stages recorded in -record")
	stages := flag.String("stages", "", "with -summary: each stage's exit status, as name=status separated by spaces")
	flag.Parse()
	if *record == "" {
		fmt.Fprintln(os.Stderr, "testsum: -record DIR is required")
		os.Exit(2)
	}
	if *summary {
		os.Exit(summarise(*record, *stages))
	}
	if *stage == "" {
		fmt.Fprintln(os.Stderr, "testsum: -stage NAME is required (or -summary)")
		os.Exit(2)
	}
	os.Exit(filter(os.Stdin, os.Stdout, *stage, *record))
}

// filter prints go test's usual output from the events on r and records
// each test's result.
func filter(r io.Reader, w io.Writer, stage, dir string) int {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		return 2
	}
	tsv, err := os.OpenFile(filepath.Join(dir, "tests.tsv"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		return 2
	}
	defer tsv.Close()
	out := bufio.NewWriter(w)
	defer out.Flush()

	type key struct{ pkg, test string }
	buf := map[key]*strings.Builder{} // output of each running test, printed if it fails
	open := map[string]bool{}         // packages started and not ended
	pkgFailed := map[string]bool{}    // packages with a failed test
	failed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event: go's own messages (downloads, vet) pass through.
			out.Write(line)
			out.WriteByte('\n')
			continue
		}
		switch e.Action {
		case "build-output":
			out.WriteString(e.Output)
		case "build-fail":
			failed = true
		case "start":
			open[e.Package] = true
		case "run":
			buf[key{e.Package, e.Test}] = &strings.Builder{}
		case "output":
			if e.Test == "" {
				// Package level: result lines, panics, timeouts. "PASS"
				// alone is what go test -v adds; plain go test does not.
				if e.Output != "PASS\n" {
					out.WriteString(e.Output)
				}
				continue
			}
			if b := buf[key{e.Package, e.Test}]; b != nil {
				b.WriteString(e.Output)
			}
		case "pass", "fail", "skip":
			if e.Test == "" {
				delete(open, e.Package)
				if e.Action == "fail" {
					failed = true
					// A test that started and has no result when its
					// package fails was running when the binary
					// stopped (a timeout or a crash): it failed, and
					// the summary names it. A package that failed
					// with no test to blame (TestMain, a panic in
					// init) is named as the package.
					blamed := pkgFailed[e.Package]
					for k, b := range buf {
						if k.pkg != e.Package {
							continue
						}
						blamed = true
						fmt.Fprintf(out, "--- %s did not finish (the test binary stopped: timeout or crash); its output:\n%s", k.test, b.String())
						fmt.Fprintf(tsv, "%s\t%s\t%s\t%s\t%.2f\n", stage, k.pkg, k.test+" (did not finish)", "fail", e.Elapsed)
						delete(buf, k)
					}
					if !blamed {
						fmt.Fprintf(tsv, "%s\t%s\t%s\t%s\t%.2f\n", stage, e.Package, "(package)", "fail", e.Elapsed)
					}
				}
				continue
			}
			k := key{e.Package, e.Test}
			if e.Action == "fail" {
				failed = true
				pkgFailed[e.Package] = true
				if b := buf[k]; b != nil {
					out.WriteString(b.String())
				}
			}
			delete(buf, k)
			fmt.Fprintf(tsv, "%s\t%s\t%s\t%s\t%.2f\n", stage, e.Package, e.Test, e.Action, e.Elapsed)
		}
		out.Flush()
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "testsum: reading go test's output: %v\n", err)
		failed = true
	}
	for pkg := range open {
		// go test ended without a result for this package: whatever was
		// running is reported with its output so far.
		failed = true
		fmt.Fprintf(out, "FAIL\t%s\t(no result: go test stopped in the middle of this package)\n", pkg)
		for k, b := range buf {
			if k.pkg == pkg {
				fmt.Fprintf(out, "--- output of %s so far:\n%s", k.test, b.String())
			}
		}
	}
	if failed {
		return 1
	}
	return 0
}

type result struct {
	stage, pkg, test, action string
	secs                     float64
}

func summarise(dir, stages string) int {
	data, err := os.ReadFile(filepath.Join(dir, "tests.tsv"))
	if err != nil && !os.IsNotExist(err) {
		fmt.Fprintf(os.Stderr, "testsum: %v\n", err)
		return 2
	}
	var all []result
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			continue
		}
		secs, _ := strconv.ParseFloat(f[4], 64)
		all = append(all, result{f[0], f[1], f[2], f[3], secs})
	}
	var top []result
	count := map[string]int{}
	var failedTests []string
	for _, r := range all {
		count[r.action]++
		if r.action == "fail" {
			failedTests = append(failedTests, fmt.Sprintf("%s: %s %s", r.stage, r.pkg, r.test))
		}
		if !strings.Contains(r.test, "/") {
			top = append(top, r)
		}
	}
	slices.SortFunc(top, func(a, b result) int {
		switch {
		case a.secs > b.secs:
			return -1
		case a.secs < b.secs:
			return 1
		}
		return 0
	})
	fmt.Println()
	fmt.Println("==== make test summary")
	fmt.Println("Ten slowest tests:")
	for _, r := range top[:min(10, len(top))] {
		fmt.Printf("  %7.1fs  %-8s %s %s\n", r.secs, r.stage, strings.TrimPrefix(r.pkg, "github.com/hark-intercom/hark/"), r.test)
	}
	code := 0
	fmt.Println("Stages:")
	for _, s := range strings.Fields(stages) {
		name, status, _ := strings.Cut(s, "=")
		verdict := "passed"
		if status != "0" {
			verdict = "FAILED (exit " + status + ")"
			code = 1
		}
		fmt.Printf("  %-10s %s\n", name, verdict)
	}
	if len(failedTests) > 0 {
		fmt.Println("Failed tests:")
		for _, f := range failedTests {
			fmt.Println("  " + f)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", count["pass"], count["fail"], count["skip"])
	return code
}
