package main

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/clitest"
)

func TestFlagsFirst(t *testing.T) {
	app := newApp()
	for _, c := range []struct{ in, want []string }{
		{[]string{"talk", "send", "a.wav", "--relay", "h", "-v"}, []string{"talk", "send", "--relay", "h", "-v", "a.wav"}},
		{[]string{"talk", "send", "--relay=h", "a.wav", "--fec=false"}, []string{"talk", "send", "--relay=h", "--fec=false", "a.wav"}},
		{[]string{"talk", "text", "hi", "--to", "bob", "--", "-x"}, []string{"talk", "text", "--to", "bob", "hi", "--", "-x"}},
		{[]string{"talk", "record", "--out", "x.wav"}, []string{"talk", "record", "--out", "x.wav"}},
		{[]string{"talk", "nosuch", "a", "--b"}, []string{"talk", "nosuch", "a", "--b"}},
	} {
		if got := flagsFirst(app, c.in); !slices.Equal(got, c.want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestVerbFirst(t *testing.T) {
	app := newApp()
	for _, c := range []struct{ in, want []string }{
		{[]string{"talk", "--relay", "h", "--user", "bob", "send", "a.wav"}, []string{"talk", "send", "--relay", "h", "--user", "bob", "a.wav"}},
		{[]string{"talk", "--relay=h", "-v", "who"}, []string{"talk", "who", "--relay=h", "-v"}},
		{[]string{"talk", "--relay", "h"}, []string{"talk", "--relay", "h"}},                     // terminal UI
		{[]string{"talk", "--user", "record"}, []string{"talk", "--user", "record"}},             // "record" is the user name
		{[]string{"talk", "--relay", "h", "nosuch"}, []string{"talk", "--relay", "h", "nosuch"}}, // left for the cli to refuse
		{[]string{"talk", "send", "a.wav"}, []string{"talk", "send", "a.wav"}},
	} {
		if got := verbFirst(app, c.in); !slices.Equal(got, c.want) {
			t.Errorf("verbFirst(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		&client.BusyError{Holder: "a"}:                  exitBusy,
		fmt.Errorf("x: %w", &client.AuthError{}):        exitAuth,
		&client.ForbiddenError{}:                        exitAuth,
		&client.UnreachableError{Err: errors.New("x")}:  exitNoConnect,
		&client.FingerprintError{}:                      exitNoConnect,
		usagef("bad"):                                   exitUsage,
		errors.New("other"):                             exitError,
		explainBusy(&client.BusyError{Holder: "alice"}): exitBusy,
		&client.CutError{By: "dave"}:                    exitBusy,
		&client.CutError{TooLong: true}:                 exitError,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
	if got := explainBusy(&client.BusyError{Holder: "alice"}).Error(); got != "busy: alice is talking — try again when they release" {
		t.Errorf("busy message %q", got)
	}
}

// talk --help and every verb's help show each flag with one placeholder
// word and one default.
func TestHelpText(t *testing.T) {
	for _, p := range clitest.FlagProblems(newApp()) {
		t.Error(p)
	}
}
