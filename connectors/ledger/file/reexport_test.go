package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

const asOfHeader = "id,customer_id,customer_name,document_number,issue_date,due_date,currency,amount,residual,as_of\n"

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func decidedAt(d connectors.KeyedDecision, when string) connectors.KeyedDecision {
	d.DecidedAt = at(when)
	return d
}

// reexportLedger is a file ledger over an export written by write, whose
// clock is 2026-12-09.
func reexportLedger(t *testing.T, cfg Config) (*Ledger, func(string)) {
	t.Helper()
	dir := t.TempDir()
	cfg.OpenItems = filepath.Join(dir, "open_items.csv")
	cfg.Journal = filepath.Join(dir, "matches.csv")
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return at("2026-12-09T12:00:00Z") }
	write := func(data string) {
		t.Helper()
		if err := os.WriteFile(cfg.OpenItems, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l, write
}

// TestReexportRule: the two kinds of export. An export taken before the
// ERP imported the journal has the journal's rows subtracted (and says the
// export is older than the journal); one taken after the import — its
// residuals already reduced — has nothing subtracted twice, and a row
// lettered after it still is. An unlettering after the export gives back.
func TestReexportRule(t *testing.T) {
	ctx := context.Background()
	l, write := reexportLedger(t, Config{})
	before := asOfHeader +
		"INV-1,C1,Alpha,D-1,2026-10-01,2026-10-31,EUR,100.00,100.00,2026-12-07T06:00:00Z\n" +
		"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,150.00,2026-12-07T06:00:00Z\n" +
		"INV-3,C2,Beta,D-4,2026-10-01,,EUR,50.00,50.00,2026-12-07T06:00:00Z\n"
	write(before)
	if _, err := l.OpenItems(ctx); err != nil {
		t.Fatal(err)
	}
	// The pass of 2026-12-07 09:00 letters INV-1 whole and 50.00 of INV-2.
	d1 := decidedAt(decision("k1", "R1", alloc("INV-1", "100.00", "")), "2026-12-07T09:00:00Z")
	d2 := decidedAt(decision("k2", "R2", alloc("INV-2", "50.00", "")), "2026-12-07T09:00:00Z")
	if err := l.Apply(ctx, []connectors.KeyedDecision{d1, d2}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		export   string
		want     map[string]string
		note     []string // in the summary line
		announce []string // in the announcements ("" none)
	}{
		{
			name:     "export before the import: the journal is subtracted",
			export:   before,
			want:     map[string]string{"INV-2": "100.00", "INV-3": "50.00"},
			note:     []string{"export as of 2026-12-07T06:00Z (its as_of column)", "journal rows subtracted: 2 (150.00 EUR)", "already reflected: 0", "1 item(s) settled by the journal left out (INV-1)"},
			announce: []string{"older than the journal's last write (2026-12-07T09:00Z): the 2 journal row(s) written after it are subtracted"},
		},
		{
			name: "export after the import: nothing subtracted twice",
			export: asOfHeader + // INV-1 paid and gone, INV-2 reduced by the ERP
				"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,2026-12-08T06:00:00Z\n" +
				"INV-3,C2,Beta,D-4,2026-10-01,,EUR,50.00,50.00,2026-12-08T06:00:00Z\n" +
				"INV-4,C2,Beta,D-5,2026-12-01,,EUR,70.00,70.00,2026-12-08T06:00:00Z\n",
			want: map[string]string{"INV-2": "100.00", "INV-3": "50.00", "INV-4": "70.00"},
			note: []string{"export as of 2026-12-08T06:00Z", "journal rows subtracted: 0", "already reflected: 1"},
		},
		{
			name: "an export without as_of cannot be placed: announced, every row subtracted",
			export: header +
				"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,,\n" +
				"INV-3,C2,Beta,D-4,2026-10-01,,EUR,50.00,50.00,,\n",
			want:     map[string]string{"INV-2": "50.00", "INV-3": "50.00"},
			note:     []string{"export not placed (rule column: no as_of)", "journal rows subtracted: 1 (50.00 EUR)"},
			announce: []string{"cannot place 1 item(s): the export has no as_of column"},
		},
		{
			name: "an as_of in the future is not trusted",
			export: asOfHeader +
				"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,2027-01-01T00:00:00Z\n",
			want:     map[string]string{"INV-2": "50.00"},
			announce: []string{"1 item(s) of the export have an as_of in the future", "cannot place 1 item(s)"},
		},
		{
			name: "French layout: as_of in the date format and a time, local time",
			export: asOfHeader +
				"INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,2026-12-08 07:00\n",
			want: map[string]string{"INV-2": "100.00"},
			note: []string{"already reflected: 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(tt.export)
			got := openResiduals(t, l)
			if len(got) != len(tt.want) {
				t.Errorf("open items = %v, want %v", got, tt.want)
			}
			for id, r := range tt.want {
				if got[id] != r {
					t.Errorf("%s = %q, want %s (all: %v)", id, got[id], r, got)
				}
			}
			line, announced := l.OpenItemsNote()
			for _, n := range tt.note {
				if !strings.Contains(line, n) {
					t.Errorf("summary %q lacks %q", line, n)
				}
			}
			all := strings.Join(announced, "\n")
			for _, a := range tt.announce {
				if !strings.Contains(all, a) {
					t.Errorf("announcements %q lack %q", announced, a)
				}
			}
			if len(tt.announce) == 0 && len(announced) > 0 {
				t.Errorf("unexpected announcements %q", announced)
			}
		})
	}

	// After the second export, 2026-12-08 10:00: INV-3 lettered 20.00,
	// and the letter of INV-2 (imported) undone.
	write(tests[1].export)
	d3 := decidedAt(decision("k3", "R3", alloc("INV-3", "20.00", "")), "2026-12-08T10:00:00Z")
	if err := l.Apply(ctx, []connectors.KeyedDecision{d3}); err != nil {
		t.Fatal(err)
	}
	if err := l.Unletter(ctx, connectors.Reversal{Key: "u2", Reverses: "k2", Tx: d2.Tx, Allocations: d2.Decision.Allocations,
		Items: d2.Items, At: at("2026-12-08T10:00:00Z")}); err != nil {
		t.Fatal(err)
	}
	got := openResiduals(t, l)
	if got["INV-2"] != "150.00" || got["INV-3"] != "30.00" || got["INV-4"] != "70.00" {
		t.Errorf("after letters and an unlettering since the export: %v, want INV-2 150.00, INV-3 30.00, INV-4 70.00", got)
	}
	if line, _ := l.OpenItemsNote(); !strings.Contains(line, "journal rows subtracted: 1 (20.00 EUR)") ||
		!strings.Contains(line, "unletterings given back: 1") {
		t.Errorf("summary = %q", line)
	}
}

// TestReexportRuleModified: as_of from the export's save time — the file's
// modification time for CSV; "never" subtracts everything (rotate).
func TestReexportRuleModified(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		rule, want, note string
	}{
		{AsOfModified, "100.00", "(the file's modification time)"},
		{AsOfNever, "50.00", "re-export rule never"},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			l, write := reexportLedger(t, Config{AsOf: tt.rule})
			write(header + "INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,150.00,,\n")
			d := decidedAt(decision("k2", "R2", alloc("INV-2", "50.00", "")), "2026-12-07T09:00:00Z")
			if err := l.Apply(ctx, []connectors.KeyedDecision{d}); err != nil {
				t.Fatal(err)
			}
			// The ERP imported the journal and exported again at 2026-12-08.
			write(header + "INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,,\n")
			if err := os.Chtimes(l.cfg.OpenItems, at("2026-12-08T06:00:00Z"), at("2026-12-08T06:00:00Z")); err != nil {
				t.Fatal(err)
			}
			if got := openResiduals(t, l); got["INV-2"] != tt.want {
				t.Errorf("INV-2 = %v, want %s", got, tt.want)
			}
			if line, _ := l.OpenItemsNote(); !strings.Contains(line, tt.note) {
				t.Errorf("summary %q lacks %q", line, tt.note)
			}
		})
	}
	if _, err := New(Config{OpenItems: "a.csv", Journal: "b.csv", AsOf: "sometimes"}); err == nil ||
		!strings.Contains(err.Error(), "as_of: unknown rule") {
		t.Errorf("bad as_of accepted: %v", err)
	}
}

// TestAsOfColumnErrors: an as_of that is not a timestamp refuses the file
// with its line and column.
func TestAsOfColumnErrors(t *testing.T) {
	l, write := reexportLedger(t, Config{})
	write(asOfHeader + "INV-2,C1,Alpha,D-2,2026-10-01,2026-10-31,EUR,200.00,100.00,yesterday\n")
	_, err := l.OpenItems(context.Background())
	if err == nil || !strings.Contains(err.Error(), `open_items.csv:2: column "as_of": parsing as_of "yesterday"`) {
		t.Errorf("err = %v", err)
	}
	var _ = domain.Amount{}
}
