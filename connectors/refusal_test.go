package connectors

import (
	"errors"
	"fmt"
	"testing"
)

type ledgerSaid struct{ msg string }

func (e *ledgerSaid) Error() string { return "ledger error: " + e.msg }

func TestReasonOf(t *testing.T) {
	own := func(err error) (string, bool) {
		var ls *ledgerSaid
		if errors.As(err, &ls) {
			return ls.msg, true
		}
		return "", false
	}
	item := &ItemError{Key: "k1", ItemID: "INV-7", Err: ErrItemNotOpen}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("applying: %w", &ledgerSaid{"period closed"}), "period closed"},
		{fmt.Errorf("applying: %w", item), "invoice INV-7: invoice is no longer open"},
		// the ledger's own message wins over the located invoice
		{&ItemError{Key: "k1", ItemID: "INV-7", Err: &ledgerSaid{"locked"}}, "locked"},
		{errors.New("boom"), "boom"},
	} {
		if got := ReasonOf(c.err, own); got != c.want {
			t.Errorf("ReasonOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if got := ReasonOf(item, nil); got != "invoice INV-7: invoice is no longer open" {
		t.Errorf("ReasonOf without own = %q", got)
	}
	if !errors.Is(fmt.Errorf("x: %w", item), ErrItemNotOpen) {
		t.Error("an ItemError does not unwrap to its cause")
	}
	if got, want := item.Error(), `decision "k1", invoice INV-7: invoice is no longer open`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
