package main

import (
	"testing"

	"github.com/hark-intercom/hark/internal/clitest"
)

// gateway --help shows each flag with one placeholder word and one default.
func TestHelpText(t *testing.T) {
	for _, p := range clitest.FlagProblems(app()) {
		t.Error(p)
	}
}
