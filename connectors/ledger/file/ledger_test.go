package file

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

const itemsCSV = header +
	"INV-1,C1,Alpha,D-1,2026-10-01,2026-10-31,EUR,100.00,100.00,,\n" +
	"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,150.00,,\n" +
	"CN-1,C1,Alpha,D-3,2026-10-01,,EUR,-30.00,-30.00,,\n" +
	"INV-3,C2,\"Beta, Inc\",D-4,2026-10-01,,EUR,50.00,50.00,,\n"

func newLedger(t *testing.T) (*Ledger, string) {
	t.Helper()
	dir := t.TempDir()
	items := filepath.Join(dir, "open_items.csv")
	if err := os.WriteFile(items, []byte(itemsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "out", "sub", "matches.csv")
	l, err := New(Config{OpenItems: items, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	return l, journal
}

func decision(key, ref string, allocs ...domain.Allocation) connectors.KeyedDecision {
	items := map[string]domain.OpenItem{}
	for _, a := range allocs {
		items[a.ItemID] = domain.OpenItem{ID: a.ItemID, DocumentNumber: "DOC-" + a.ItemID, CustomerID: "C1"}
	}
	return connectors.KeyedDecision{
		Key: key,
		Tx: domain.Transaction{Ref: ref, Account: "DE89370400440532013000", Amount: domain.MustAmount("70.00"),
			Currency: "EUR", Credit: true, BookingDate: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
			Counterparty: domain.Party{Name: "Alpha, \"the\" payer\nline 2"}},
		Decision: domain.Decision{TxKey: "k-" + ref, Outcome: domain.Auto, Rule: "reference", Confidence: 0.987,
			Explanation: "reference D-1 found", Allocations: allocs},
		Items:     items,
		DecidedAt: time.Date(2026, 11, 23, 13, 4, 5, 0, time.FixedZone("CET", 3600)),
	}
}

func alloc(id, amount, wo string) domain.Allocation {
	a := domain.Allocation{ItemID: id, Amount: domain.MustAmount(amount)}
	if wo != "" {
		a.WriteOff = domain.MustAmount(wo)
	}
	return a
}

func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("journal is not valid CSV: %v", err)
	}
	return rows
}

func TestValidateConfig(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		errContains string
	}{
		{"ok", Config{OpenItems: "a.csv", Journal: "m.csv"}, ""},
		{"no open items", Config{Journal: "m.csv"}, "open_items: required"},
		{"no journal", Config{OpenItems: "a.csv"}, "journal: required"},
		{"same file", Config{OpenItems: "a.csv", Journal: "./a.csv"}, "journal: must not be the open_items file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.errContains == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("New() = %v, want %q", err, tt.errContains)
			}
		})
	}
}

func TestMatchRows(t *testing.T) {
	d := decision("key-1", "REF1", alloc("INV-1", "69.50", "0.50"), alloc("CN-1", "-30", ""))
	rows := MatchRows(d)
	want := [][]string{
		{"REF1", "DE89370400440532013000", "2026-11-02", "70.00", "EUR", "Alpha, \"the\" payer\nline 2",
			"INV-1", "DOC-INV-1", "C1", "69.50", "0.50", "reference", "0.99", "reference D-1 found", "key-1", "2026-11-23T12:04:05Z"},
		{"REF1", "DE89370400440532013000", "2026-11-02", "70.00", "EUR", "Alpha, \"the\" payer\nline 2",
			"CN-1", "DOC-CN-1", "C1", "-30", "0", "reference", "0.99", "reference D-1 found", "key-1", "2026-11-23T12:04:05Z"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows", len(rows))
	}
	for i := range want {
		if len(rows[i]) != len(ContractHeader) || strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d = %q\nwant   %q", i, rows[i], want[i])
		}
	}
	if n := len(MatchRows(decision("k", "R"))); n != 0 {
		t.Errorf("a decision without allocations gave %d rows", n)
	}
}

func TestApplyIdempotent(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	batch := []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "100.00", "")),
		decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")),
		decision("k1", "R1", alloc("INV-1", "100.00", "")), // repeated in the batch
	}
	if err := l.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// A fresh ledger on the same journal (a restart) must not write again.
	l2, err := New(l.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Apply(ctx, batch[:2]); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, journal)
	if strings.Join(rows[0], ",") != strings.Join(JournalHeader, ",") {
		t.Fatalf("header = %q", rows[0])
	}
	if len(rows) != 4 {
		t.Fatalf("journal has %d data rows, want 3:\n%q", len(rows)-1, rows)
	}
	got, err := l2.Applied(ctx, []string{"k1", "k2", "k3"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["k1"] || !got["k2"] || got["k3"] || len(got) != 3 {
		t.Fatalf("Applied = %v", got)
	}
	if err := l.Apply(ctx, []connectors.KeyedDecision{{Tx: domain.Transaction{Ref: "X"}}}); err == nil || !strings.Contains(err.Error(), "no key") {
		t.Fatalf("Apply without key = %v", err)
	}
}

func TestApplyConcurrent(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	batch := []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "100", "")),
		decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")),
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() { errs <- l.Apply(ctx, batch) }()
	}
	for i := 0; i < 8; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if rows := readRows(t, journal); len(rows) != 4 {
		t.Fatalf("journal has %d data rows, want 3", len(rows)-1)
	}
}

func TestOpenItemsSubtractsJournal(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	items, err := l.OpenItems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items before lettering", len(items))
	}
	err = l.Apply(ctx, []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "99.50", "0.50")),                    // fully settled with a write-off
		decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")), // partial + credit note
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Ledger{l, {cfg: l.cfg}} { // cached and freshly read
		items, err := l.OpenItems(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, it := range items {
			got[it.ID] = it.Residual.String()
		}
		if len(got) != 2 || got["INV-2"] != "100.00" || got["INV-3"] != "50.00" {
			t.Fatalf("open items after lettering = %v, want INV-2:100 INV-3:50", got)
		}
	}
}

func TestOpenItemsErrors(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	if err := os.WriteFile(l.cfg.OpenItems, []byte(header+"A,C,N,D,,,EUR,1,x,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := l.OpenItems(ctx)
	var re *RowError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "open_items.csv:2: column \"residual\"") {
		t.Fatalf("OpenItems() = %v", err)
	}
	if _, err := os.Stat(journal); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused export created the journal (%v): it writes nothing", err)
	}
	os.Remove(l.cfg.OpenItems)
	if _, err := l.OpenItems(ctx); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenItems() on a missing file = %v", err)
	}
}

// TestOpenItemsErrorsInOrder: the journal is read beside the export, and
// its error still comes after the export's, as when it was read after.
func TestOpenItemsErrorsInOrder(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, []byte("a,b,c\n1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.OpenItems(ctx); !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "header") {
		t.Fatalf("OpenItems() with a foreign journal = %v", err)
	}
	if err := os.WriteFile(l.cfg.OpenItems, []byte(header+"A,C,N,D,,,EUR,1,x,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := l.OpenItems(ctx)
	var re *RowError
	if !errors.As(err, &re) || errors.Is(err, ErrJournal) {
		t.Fatalf("OpenItems() with a bad export and a foreign journal = %v, want the export's error alone", err)
	}
	if b, _ := os.ReadFile(journal); string(b) != "a,b,c\n1,2,3\n" {
		t.Fatalf("foreign journal modified: %q", b)
	}
}

func TestJournalForeignHeader(t *testing.T) {
	l, journal := newLedger(t)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, []byte("a,b,c\n1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := l.Apply(context.Background(), []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "1", ""))})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "header") {
		t.Fatalf("Apply on a foreign file = %v", err)
	}
	if b, _ := os.ReadFile(journal); string(b) != "a,b,c\n1,2,3\n" {
		t.Fatalf("foreign file modified: %q", b)
	}
}

func TestJournalRotation(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	if err := l.Apply(ctx, []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "100", ""))}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(journal, journal+".1"); err != nil {
		t.Fatal(err)
	}
	got, err := l.Applied(ctx, []string{"k1"})
	if err != nil {
		t.Fatal(err)
	}
	if got["k1"] {
		t.Fatal("the cache outlived a rotated journal")
	}
	if rows := readRows(t, journal); len(rows) != 1 {
		t.Fatalf("new journal has %d rows, want the header only", len(rows))
	}
}

// TestTornWriteRepair builds a journal with two complete decisions (k1: one
// row, k2: two rows), appends a third (k2: two rows), then cuts that append
// short as a crash would, with or without the pending marker Apply keeps
// while appending.
func TestTornWriteRepair(t *testing.T) {
	ctx := context.Background()
	k3 := decision("k3", "R3", alloc("INV-2", "10", ""), alloc("INV-3", "20", ""))
	full := func(t *testing.T) (*Ledger, string, int64, []byte) {
		l, journal := newLedger(t)
		if err := l.Apply(ctx, []connectors.KeyedDecision{
			decision("k1", "R1", alloc("INV-1", "100", "")),
			decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")),
		}); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(journal)
		if err := l.Apply(ctx, []connectors.KeyedDecision{k3}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(journal + pendingSuffix); !os.IsNotExist(err) {
			t.Fatalf("marker left after a successful Apply: %v", err)
		}
		after, _ := os.ReadFile(journal)
		return l, journal, int64(len(before)), after[len(before):]
	}
	tests := []struct {
		name   string
		marker bool // the crash left Apply's pending marker
		// cut returns how many bytes of the k3 append survive the crash.
		cut    func(tail []byte) int
		wantK3 bool
	}{
		{"mid first row", false, func(tail []byte) int { return 20 }, false},
		{"inside quoted name with newline", false, func(tail []byte) int {
			return strings.Index(string(tail), "\nline 2") + 1 // ends with '\n' inside quotes
		}, false},
		{"first row complete, second mid-key", false, func(tail []byte) int {
			second := firstRowEnd(t, tail)
			return second + strings.Index(string(tail[second:]), ",k3,") + 3
		}, false},
		{"last byte missing", false, func(tail []byte) int { return len(tail) - 1 }, false},
		{"complete", false, func(tail []byte) int { return len(tail) }, true},
		{"marker, nothing written", true, func(tail []byte) int { return 0 }, false},
		{"marker, after first row, mid second", true, func(tail []byte) int {
			return firstRowEnd(t, tail) + len("R3,DE89")
		}, false},
		{"marker, first row only", true, func(tail []byte) int { return firstRowEnd(t, tail) }, false},
		{"marker, all written", true, func(tail []byte) int { return len(tail) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, journal, before, tail := full(t)
			if err := os.Truncate(journal, before+int64(tt.cut(tail))); err != nil {
				t.Fatal(err)
			}
			if tt.marker {
				if err := os.WriteFile(journal+pendingSuffix, []byte(strconv.FormatInt(before, 10)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// A restarted ledger repairs the journal before anything else.
			l2, _ := New(l.cfg)
			got, err := l2.Applied(ctx, []string{"k1", "k2", "k3"})
			if err != nil {
				t.Fatal(err)
			}
			if !got["k1"] || !got["k2"] || got["k3"] != tt.wantK3 {
				t.Fatalf("Applied after repair = %v", got)
			}
			if _, err := os.Stat(journal + pendingSuffix); !os.IsNotExist(err) {
				t.Fatalf("marker left after repair: %v", err)
			}
			if err := l2.Apply(ctx, []connectors.KeyedDecision{k3}); err != nil {
				t.Fatal(err)
			}
			rows := readRows(t, journal)
			if len(rows) != 1+1+2+2 {
				t.Fatalf("journal has %d rows after re-applying k3, want 6:\n%q", len(rows), rows)
			}
			for _, r := range rows {
				if len(r) != len(JournalHeader) {
					t.Fatalf("row with %d fields: %q", len(r), r)
				}
			}
			// Codes of rows cut off are given again: none is skipped or reused.
			if got := join(codes(t, journal)); got != "k1:AAA k2:AAB k3:AAC" {
				t.Fatalf("lettering codes after repair = %s", got)
			}
		})
	}
}

func TestTornMarker(t *testing.T) {
	l, journal := newLedger(t)
	ctx := context.Background()
	if err := l.Apply(ctx, []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	// A marker torn while being written: the append never started.
	if err := os.WriteFile(journal+pendingSuffix, []byte("12"[:1]+"x"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := (&Ledger{cfg: l.cfg}).Applied(ctx, []string{"k1"})
	if err != nil || !got["k1"] {
		t.Fatalf("Applied = %v, %v", got, err)
	}
}

// firstRowEnd returns the offset just past the first CSV record of tail.
func firstRowEnd(t *testing.T, tail []byte) int {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(tail))
	if _, err := cr.Read(); err != nil {
		t.Fatal(err)
	}
	return int(cr.InputOffset())
}

func TestTornHeaderRepair(t *testing.T) {
	l, journal := newLedger(t)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journal, []byte("tx_ref,account_ib"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(context.Background(), []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "1", ""))}); err != nil {
		t.Fatal(err)
	}
	if rows := readRows(t, journal); len(rows) != 2 || rows[0][1] != "account_iban" {
		t.Fatalf("journal = %q", rows)
	}
}

func TestJournalCorruptMiddle(t *testing.T) {
	l, journal := newLedger(t)
	if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
		t.Fatal(err)
	}
	body := strings.Join(JournalHeader, ",") + "\nonly,three,fields\n"
	if err := os.WriteFile(journal, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := l.Applied(context.Background(), []string{"k"})
	if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Applied on a corrupt journal = %v", err)
	}
}

func TestCancelled(t *testing.T) {
	l, _ := newLedger(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.OpenItems(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenItems = %v", err)
	}
	if err := l.Apply(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply = %v", err)
	}
	if _, err := l.Applied(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Applied = %v", err)
	}
}

func BenchmarkReadOpenItems(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := 0; i < 10000; i++ {
		sb.WriteString("INV-")
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(time.Duration(i).String())
		sb.WriteString(",C1,\"Alpha, Inc\",D-1,2026-10-01,2026-10-31,EUR,100.00,100.00,RF18539007547034,DE89 3704 0044 0532 0130 00\n")
	}
	data := sb.String()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadOpenItems(strings.NewReader(data), "bench.csv"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply measures one batch of one decision: the append and its
// three fsyncs (marker, journal, folder) dominate.
func BenchmarkApply(b *testing.B) {
	dir := b.TempDir()
	l, err := New(Config{OpenItems: filepath.Join(dir, "i.csv"), Journal: filepath.Join(dir, "m.csv")})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := decision("k"+strconv.Itoa(i), "R", alloc("INV-1", "10", ""))
		if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadJournal measures reading back a journal of 10,000 rows, as
// a restarted daemon does once.
func BenchmarkLoadJournal(b *testing.B) {
	dir := b.TempDir()
	journal := filepath.Join(dir, "m.csv")
	l, err := New(Config{OpenItems: filepath.Join(dir, "i.csv"), Journal: journal})
	if err != nil {
		b.Fatal(err)
	}
	var batch []connectors.KeyedDecision
	for i := 0; i < 10000; i++ {
		batch = append(batch, decision("k"+strconv.Itoa(i), "R", alloc("INV-"+strconv.Itoa(i%500), "10", "")))
	}
	if err := l.Apply(context.Background(), batch); err != nil {
		b.Fatal(err)
	}
	info, _ := os.Stat(journal)
	b.SetBytes(info.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := loadJournal(journal); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppliedMakesRoomKeepingTheCache: Applied, asked about more keys than
// the journal holds (a write-back about to apply them), rebuilds the cached
// journal state with room for them: what it holds is unchanged (the same
// as the journal read back), and so is what the ledger then says and does.
func TestAppliedMakesRoomKeepingTheCache(t *testing.T) {
	ctx := context.Background()
	l, journal := newLedger(t)
	err := l.Apply(ctx, []connectors.KeyedDecision{
		decision("k1", "R1", alloc("INV-1", "99.50", "0.50")),
		decision("k2", "R2", alloc("INV-2", "50", ""), alloc("CN-1", "-30", "")),
	})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"k1", "k2"}
	for i := range 40 {
		keys = append(keys, "new-"+strconv.Itoa(i))
	}
	got, err := l.Applied(ctx, keys)
	if err != nil || !got["k1"] || !got["k2"] || got["new-0"] {
		t.Fatalf("Applied = %v, %v", got, err)
	}
	read, err := loadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	st := l.journal
	if !reflect.DeepEqual(st.keys, read.keys) || !reflect.DeepEqual(st.used, read.used) || !reflect.DeepEqual(st.uses, read.uses) ||
		!reflect.DeepEqual(st.codes, read.codes) || st.last != read.last {
		t.Fatalf("the cached journal after Applied differs from the journal read back:\n%+v\n%+v", st, read)
	}
	if err := l.Apply(ctx, []connectors.KeyedDecision{decision("new-0", "R3", alloc("INV-3", "50", ""))}); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, journal)
	if last := rows[len(rows)-1]; last[jKey] != "new-0" || last[jCode] != nextCode(rows[len(rows)-2][jCode]) {
		t.Errorf("the letter after Applied: %q, want new-0 with the code after %q", last, rows[len(rows)-2][jCode])
	}
}
