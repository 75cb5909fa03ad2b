package pipeline

import (
	"errors"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors/ledger/file"
)

// TestOpenItemsErrorIsNotDoubled: "reading open items: open …", not
// "reading open items: reading open items: open …", and still
// errors.Is(ErrOpenItems).
func TestOpenItemsErrorIsNotDoubled(t *testing.T) {
	for inner, want := range map[string]string{
		"reading open items: open x.csv: no such file": "reading open items: open x.csv: no such file",
		"connecting to postgres: refused":              "reading open items: connecting to postgres: refused",
	} {
		err := openItemsError(errors.New(inner))
		if err.Error() != want || !errors.Is(err, ErrOpenItems) {
			t.Errorf("openItemsError(%q) = %q (Is ErrOpenItems %v), want %q", inner, err, errors.Is(err, ErrOpenItems), want)
		}
	}
}

func TestExitCodes(t *testing.T) {
	skipped := errors.Join(errors.New("x"), ErrFilesSkipped)
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{ErrFilesSkipped, ExitPartial},
		{errors.Join(ErrFilesSkipped, ErrFilesSkipped), ExitPartial},
		{ErrBusy, ExitPartial},
		{skipped, ExitUnavailable}, // something else failed too
		{openItemsError(errors.New("dial tcp: refused")), ExitUnavailable},
		{errors.New("listing statements: connection refused"), ExitUnavailable},
	} {
		if got := ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	_, bad := file.ReadOpenItems(strings.NewReader("id,currency,amount,residual\nA,EURO,1,1\n"), "open_items.csv")
	if bad == nil {
		t.Fatal("a bad currency was read")
	}
	if got := ExitCode(openItemsError(bad)); got != ExitUsage {
		t.Errorf("a malformed open-items file: exit %d, want %d (%v)", got, ExitUsage, bad)
	}
}
