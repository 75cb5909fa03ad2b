package matcher

import (
	"fmt"
	"testing"
)

// TestNotBooked checks that the shared explanations of the usual statuses
// say what the built one says.
func TestNotBooked(t *testing.T) {
	for _, st := range []string{"PDNG", "INFO", "FUTR", ""} {
		if got, want := notBooked(st), fmt.Sprintf("status %s: not booked", st); got != want {
			t.Errorf("notBooked(%q) = %q, want %q", st, got, want)
		}
	}
}
