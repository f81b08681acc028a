package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A package whose test binary stops on its timeout reports no result for
// the tests that were running: the filter must count them as failed and
// name them, or the summary says "0 failed" over a failed stage (CI run
// of 2026-12-07: internal/relay timed out, summary "949 passed, 0 failed").
// testdata/timeout.json is go test -json of a test that sleeps past
// -timeout 2s, with the goroutine dump cut.
func TestTimedOutTestIsNamed(t *testing.T) {
	in, err := os.Open(filepath.Join("testdata", "timeout.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dir := t.TempDir()
	var out bytes.Buffer
	if code := filter(in, &out, "unit", dir); code != 1 {
		t.Fatalf("filter exit %d, want 1; output:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "TestHangs/sub did not finish") {
		t.Errorf("output does not say which test did not finish:\n%s", out.String())
	}
	tsv, err := os.ReadFile(filepath.Join(dir, "tests.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"unit\ttso\tTestQuick\tpass\t",
		"unit\ttso\tTestHangs/sub (did not finish)\tfail\t",
		"unit\ttso\tTestHangs (did not finish)\tfail\t",
	} {
		if !strings.Contains(string(tsv), want) {
			t.Errorf("tests.tsv lacks %q:\n%s", want, tsv)
		}
	}
}

// A package that fails with no test to blame (a panic in TestMain or
// init) is named as the package.
func TestPackageFailureWithoutTest(t *testing.T) {
	in := strings.NewReader(`{"Action":"start","Package":"p"}
{"Action":"output","Package":"p","Output":"panic: in init\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}
{"Action":"fail","Package":"p","Elapsed":0.01}
`)
	dir := t.TempDir()
	var out bytes.Buffer
	if code := filter(in, &out, "unit", dir); code != 1 {
		t.Fatalf("filter exit %d, want 1", code)
	}
	tsv, _ := os.ReadFile(filepath.Join(dir, "tests.tsv"))
	if !strings.Contains(string(tsv), "unit\tp\t(package)\tfail\t") {
		t.Errorf("tests.tsv does not name the failed package:\n%s", tsv)
	}
}
