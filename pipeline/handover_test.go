package pipeline

import (
	"fmt"
	"testing"

	"github.com/lettrage/lettrage/pipeline/decide"
)

// TestHandedExceptionsReadWholeWhenMostWritten: the reports read the
// store's exceptions whole when the pass wrote more rows than it read (a
// first pass writes every transaction: looking each up again by key cost
// eight times the whole read at 1,000,000), and by key otherwise.
func TestHandedExceptionsReadWholeWhenMostWritten(t *testing.T) {
	for _, c := range []struct {
		touched, open, others int
		whole                 bool
	}{
		{touched: 1000, open: 0, others: 0, whole: true},     // a first pass
		{touched: 1000, open: 300, others: 200, whole: true}, // a pass that wrote most
		{touched: 50, open: 300, others: 200, whole: false},  // a delta
		{touched: 500, open: 300, others: 200, whole: false},
		{touched: 0, open: 0, others: 0, whole: false},
	} {
		h := handedExceptions{open: make([]decide.StoredTx, c.open), others: make([]decide.StoredTx, c.others), touched: map[string]bool{}}
		for i := range c.touched {
			h.touch(fmt.Sprint(i))
		}
		if got := h.readWhole(); got != c.whole {
			t.Errorf("%d written, %d + %d read: whole read %v, want %v", c.touched, c.open, c.others, got, c.whole)
		}
	}
}
