package pipeline

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/domain"
)

// blockingLedger's OpenItems waits for the context, as a slow ERP call
// would when the daemon is stopped.
type blockingLedger struct{ connectors.Ledger }

func (blockingLedger) OpenItems(ctx context.Context) ([]domain.OpenItem, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestShutdownIsNotAnError: a pass cancelled by an orderly shutdown is
// logged at INFO, not as level=ERROR "run failed … context canceled".
func TestShutdownIsNotAnError(t *testing.T) {
	store, err := OpenSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var buf bytes.Buffer
	log := NewLogger(&buf, "info", "text")
	s := &Service{Log: log, Store: store}
	job := &Job{Name: "slow", Ledger: blockingLedger{}, Store: store, Log: log}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	s.logRun(job, ctx)
	out := buf.String()
	if strings.Contains(out, "level=ERROR") || !strings.Contains(out, `level=INFO msg="run stopped by the shutdown`) {
		t.Errorf("log of a pass stopped by the shutdown:\n%s", out)
	}

	// The same error without a shutdown is a failure.
	buf.Reset()
	failing := &Job{Name: "down", Ledger: failingLedger{}, Store: store, Log: log}
	s.logRun(failing, context.Background())
	if !strings.Contains(buf.String(), `level=ERROR msg="run failed" job=down exit_code=3`) {
		t.Errorf("log of a failed pass:\n%s", buf.String())
	}
}

type failingLedger struct{ connectors.Ledger }

func (failingLedger) OpenItems(context.Context) ([]domain.OpenItem, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
}

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
