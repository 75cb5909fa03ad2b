package connectors

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRejections(t *testing.T) {
	r1 := &RejectedError{Key: "k1", Reason: "The invoice is paid.", Err: errors.New("UserError")}
	r2 := &RejectedError{Key: "k2", Reason: "closed period"}
	other := errors.New("connection reset")
	tests := []struct {
		name     string
		err      error
		keys     string
		onlyRejs bool
	}{
		{name: "nil"},
		{name: "other", err: other},
		{name: "one", err: r1, keys: "k1", onlyRejs: true},
		{name: "wrapped", err: fmt.Errorf("applying 3 decisions: %w", r1), keys: "k1", onlyRejs: true},
		{name: "joined", err: fmt.Errorf("applying: %w", errors.Join(r1, fmt.Errorf("x: %w", r2))), keys: "k1,k2", onlyRejs: true},
		{name: "mixed", err: errors.Join(r1, other), keys: "k1", onlyRejs: false},
		{name: "two %w", err: fmt.Errorf("%w and %w", r1, other), keys: "k1", onlyRejs: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rej, only := Rejections(tc.err)
			var keys []string
			for _, r := range rej {
				keys = append(keys, r.Key)
			}
			if got := strings.Join(keys, ","); got != tc.keys || only != tc.onlyRejs {
				t.Errorf("Rejections = %q, %v; want %q, %v", got, only, tc.keys, tc.onlyRejs)
			}
		})
	}
}

func TestRejectedErrorIs(t *testing.T) {
	base := errors.New("UserError")
	err := fmt.Errorf("applying: %w", &RejectedError{Key: "k", Reason: "paid", Err: base})
	if !errors.Is(err, ErrRejected) || !errors.Is(err, base) {
		t.Errorf("errors.Is(%v, ErrRejected/base) = false", err)
	}
	if errors.Is(base, ErrRejected) {
		t.Error("a plain error is a rejection")
	}
	if got := err.Error(); !strings.Contains(got, `decision "k"`) || !strings.Contains(got, "paid") {
		t.Errorf("message %q lacks the key or reason", got)
	}
}
