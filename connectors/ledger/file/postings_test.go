package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
)

func posting(kind domain.PostingKind, customer, amount, reason string) domain.Posting {
	return domain.Posting{Kind: kind, CustomerID: customer, Amount: domain.MustAmount(amount), Reason: reason}
}

// withPostings is decision() with postings and the rule of a resolution.
func withPostings(d connectors.KeyedDecision, ps ...domain.Posting) connectors.KeyedDecision {
	d.Decision.Postings = ps
	if len(ps) > 0 {
		d.Decision.Rule = "manual:" + string(ps[0].Kind)
		d.Decision.Confidence = 1
	}
	return d
}

// newPostingLedger is newLedger with a write-off account.
func newPostingLedger(t *testing.T) (*Ledger, string) {
	t.Helper()
	l, journal := newLedger(t)
	cfg := l.cfg
	cfg.WriteOffAccount = "758"
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l, journal
}

func TestPostingJournalRows(t *testing.T) {
	const tx = "REF1|DE89370400440532013000|2026-11-02|70.00|EUR|Alpha, \"the\" payer\nline 2|"
	const tail = "|key-1|2026-11-23T12:04:05Z|"
	f := fecFields{code: "AAB", journal: "BQ", accountPrefix: "411", writeOffAccount: "758"}
	tests := []struct {
		name string
		d    connectors.KeyedDecision
		want []string // each row joined with |
	}{
		{
			name: "on account only",
			d:    withPostings(decision("key-1", "REF1"), posting(domain.OnAccount, "C7", "70.00", "")),
			want: []string{tx + "||C7|70.00|0|manual:on_account|1.00|reference D-1 found" + tail + "||BQ|411C7|on_account|"},
		},
		{
			name: "write-off only, reason with a comma",
			d:    withPostings(decision("key-1", "REF1"), posting(domain.WriteOffPosting, "", "70.00", "UNKNOWN, tiny")),
			want: []string{tx + "|||70.00|0|manual:write_off|1.00|reference D-1 found" + tail + "||BQ|758|write_off|UNKNOWN, tiny"},
		},
		{
			name: "allocation then the rest on account",
			d: withPostings(decision("key-1", "REF1", alloc("INV-1", "50.00", "")),
				posting(domain.OnAccount, "C1", "20.00", "advance")),
			want: []string{
				tx + "INV-1|DOC-INV-1|C1|50.00|0|manual:on_account|1.00|reference D-1 found" + tail + "AAB|2026-11-23|BQ|411C1||",
				tx + "||C1|20.00|0|manual:on_account|1.00|reference D-1 found" + tail + "||BQ|411C1|on_account|advance",
			},
		},
		{
			name: "allocation, the rest written off",
			d: withPostings(decision("key-1", "REF1", alloc("INV-1", "69.70", "")),
				posting(domain.WriteOffPosting, "", "0.30", "ROUNDING")),
			want: []string{
				tx + "INV-1|DOC-INV-1|C1|69.70|0|manual:write_off|1.00|reference D-1 found" + tail + "AAB|2026-11-23|BQ|411C1||",
				tx + "|||0.30|0|manual:write_off|1.00|reference D-1 found" + tail + "||BQ|758|write_off|ROUNDING",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := journalRows(tt.d, f)
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d: %q", len(rows), len(tt.want), rows)
			}
			contract := MatchRows(tt.d)
			for i, r := range rows {
				if len(r) != len(JournalHeader) {
					t.Fatalf("row %d has %d fields, want %d", i, len(r), len(JournalHeader))
				}
				// same-currency rows leave item_amount and item_currency empty
				if got, want := strings.Join(r, "|"), tt.want[i]+"||"; got != want {
					t.Errorf("row %d:\n got %q\nwant %q", i, got, want)
				}
				if strings.Join(r[:len(ContractHeader)], "|") != strings.Join(contract[i], "|") {
					t.Errorf("row %d does not start with MatchRows", i)
				}
			}
		})
	}
	if JournalHeader[jKind] != "posting_kind" || JournalHeader[jReason] != "posting_reason" ||
		JournalHeader[jAccount] != "customer_account" || JournalHeader[jDate] != "lettering_date" ||
		JournalHeader[jCustomerID] != "customer_id" || JournalHeader[jItemAmount] != "item_amount" ||
		JournalHeader[jItemCcy] != "item_currency" || len(JournalHeader) != jItemCcy+1 {
		t.Fatalf("column constants do not point at their names in %q", JournalHeader)
	}
}

func TestApplyPostingsOnce(t *testing.T) {
	ctx := context.Background()
	l, journal := newPostingLedger(t)
	batch := []connectors.KeyedDecision{
		withPostings(decision("k-acct", "R1"), posting(domain.OnAccount, "C2", "70.00", "")),
		withPostings(decision("k-mixed", "R2", alloc("INV-1", "60.00", "")), posting(domain.WriteOffPosting, "", "10.00", "DISPUTE")),
		decision("k-plain", "R3", alloc("INV-3", "50.00", "")),
	}
	for i := 0; i < 2; i++ {
		if err := l.Apply(ctx, batch); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
	}
	l2, _ := New(l.cfg) // a restart reads the posting rows back
	if err := l2.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, journal)
	if len(rows) != 1+4 {
		t.Fatalf("journal has %d data rows, want 4:\n%q", len(rows)-1, rows)
	}
	got, err := l2.Applied(ctx, []string{"k-acct", "k-mixed", "k-plain", "k-none"})
	if err != nil {
		t.Fatal(err)
	}
	if !got["k-acct"] || !got["k-mixed"] || !got["k-plain"] || got["k-none"] {
		t.Fatalf("Applied = %v", got)
	}
	// A decision with postings only takes no lettering code.
	if got := join(codes(t, journal)); got != "k-mixed:AAA k-plain:AAB" {
		t.Errorf("codes = %s", got)
	}
	// Postings touch no open item.
	if r := openResiduals(t, l2); r["INV-1"] != "40.00" || r["INV-3"] != "" || r["INV-2"] != "150.00" || len(r) != 3 {
		t.Errorf("residuals = %v, want INV-1:40 INV-2:150 CN-1", r)
	}
	if ps := l2.journal.postings["k-acct"]; len(ps) != 1 || ps[0].CustomerID != "C2" || ps[0].account != "411C2" || ps[0].Amount.String() != "70.00" {
		t.Errorf("postings read back = %+v", ps)
	}
}

func TestApplyPostingRejections(t *testing.T) {
	ctx := context.Background()
	// fecOnly is the header of the version before the posting columns.
	fecOnly := strings.Join(fecJournalHeader, ",") + "\n"
	tests := []struct {
		name            string
		writeOffAccount string
		journal         string // initial content, "" for none
		d               connectors.KeyedDecision
		errContains     string // "" when written
		wantWidth       int
	}{
		{name: "write-off without account", d: withPostings(decision("k", "R", alloc("INV-1", "60", "")),
			posting(domain.WriteOffPosting, "", "10", "X")), errContains: "set write_off_account", wantWidth: len(JournalHeader)},
		{name: "write-off with account", writeOffAccount: "658", d: withPostings(decision("k", "R"),
			posting(domain.WriteOffPosting, "", "10", "X")), wantWidth: len(JournalHeader)},
		{name: "on account without customer", writeOffAccount: "658", d: withPostings(decision("k", "R"),
			posting(domain.OnAccount, "", "10", "")), errContains: "needs the customer", wantWidth: len(JournalHeader)},
		{name: "unknown kind", writeOffAccount: "658", d: withPostings(decision("k", "R"),
			posting("refund", "C1", "10", "")), errContains: `unknown posting kind "refund"`, wantWidth: len(JournalHeader)},
		{name: "journal without posting columns", writeOffAccount: "658", journal: fecOnly,
			d: withPostings(decision("k", "R"), posting(domain.OnAccount, "C1", "70", "")), errContains: "rotate it",
			wantWidth: len(fecJournalHeader)},
		{name: "legacy journal", writeOffAccount: "658", journal: strings.Join(ContractHeader, ",") + "\n",
			d: withPostings(decision("k", "R"), posting(domain.OnAccount, "C1", "70", "")), errContains: "rotate it",
			wantWidth: len(ContractHeader)},
		{name: "journal without posting columns, allocations only", journal: fecOnly,
			d: decision("k", "R", alloc("INV-1", "70", "")), wantWidth: len(fecJournalHeader)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, journal := newLedger(t)
			cfg := l.cfg
			cfg.WriteOffAccount = tt.writeOffAccount
			l, _ = New(cfg)
			if tt.journal != "" {
				if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(journal, []byte(tt.journal), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			other := decision("k-other", "R9", alloc("INV-2", "10", ""))
			err := l.Apply(ctx, []connectors.KeyedDecision{tt.d, other})
			rows := readRows(t, journal)
			for _, r := range rows {
				if len(r) != tt.wantWidth {
					t.Fatalf("row of %d fields, want %d: %q", len(r), tt.wantWidth, r)
				}
			}
			applied, aerr := (&Ledger{cfg: l.cfg}).Applied(ctx, []string{"k", "k-other"})
			if aerr != nil {
				t.Fatal(aerr)
			}
			if !applied["k-other"] {
				t.Errorf("the other decision of the batch was not written (%v)", err)
			}
			if tt.errContains == "" {
				if err != nil || !applied["k"] {
					t.Fatalf("Apply = %v, applied = %v", err, applied)
				}
				return
			}
			rej, only := connectors.Rejections(err)
			if !only || len(rej) != 1 || rej[0].Key != "k" || !strings.Contains(rej[0].Reason, tt.errContains) {
				t.Fatalf("Apply = %v, want only k rejected with %q", err, tt.errContains)
			}
			if !errors.Is(err, ErrCannotPost) {
				t.Errorf("rejection does not wrap ErrCannotPost: %v", err)
			}
			if applied["k"] || len(rows) != 2 {
				t.Errorf("the refused decision was written (half or whole): %q", rows)
			}
		})
	}
}

// TestPostingTornWriteRepair: a crash in the middle of appending a batch
// with postings (with the pending marker, or a torn tail without it)
// leaves none of its rows; re-applying writes each exactly once.
func TestPostingTornWriteRepair(t *testing.T) {
	ctx := context.Background()
	batch := []connectors.KeyedDecision{
		withPostings(decision("k2", "R2", alloc("INV-2", "50", "")), posting(domain.OnAccount, "C1", "20", "")),
		withPostings(decision("k3", "R3"), posting(domain.WriteOffPosting, "", "70", "UNKNOWN")),
	}
	for _, tt := range []struct {
		name   string
		marker bool
		cut    func(tail []byte) int
		wantK2 bool // k2 was complete and is kept
	}{
		{"torn inside the posting row", false, func(tail []byte) int {
			return strings.Index(string(tail), ",on_account,") + 4
		}, false},
		{"torn in the second decision", false, func(tail []byte) int { return len(tail) - 5 }, true},
		{"marker, the first decision complete", true, func(tail []byte) int {
			return strings.Index(string(tail), "on_account,\n") + len("on_account,\n")
		}, false},
		{"marker, all written", true, func(tail []byte) int { return len(tail) }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, journal := newPostingLedger(t)
			if err := l.Apply(ctx, []connectors.KeyedDecision{decision("k1", "R1", alloc("INV-1", "100", ""))}); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(journal)
			if err := l.Apply(ctx, batch); err != nil {
				t.Fatal(err)
			}
			after, _ := os.ReadFile(journal)
			tail := after[len(before):]
			if err := os.Truncate(journal, int64(len(before)+tt.cut(tail))); err != nil {
				t.Fatal(err)
			}
			if tt.marker {
				if err := os.WriteFile(journal+pendingSuffix, []byte(strconv.Itoa(len(before))+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l2, _ := New(l.cfg)
			got, err := l2.Applied(ctx, []string{"k1", "k2", "k3"})
			if err != nil {
				t.Fatal(err)
			}
			if !got["k1"] || got["k2"] != tt.wantK2 || got["k3"] {
				t.Fatalf("Applied after repair = %v, want k1, k2 %v", got, tt.wantK2)
			}
			for i := 0; i < 2; i++ {
				if err := l2.Apply(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			rows := readRows(t, journal)
			if string(before)+string(tail) != string(mustRead(t, journal)) {
				t.Errorf("journal after re-applying differs from the uninterrupted one:\n%q", rows)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJournalBadPostingRows(t *testing.T) {
	for _, tt := range []struct {
		name, row, errContains string
	}{
		{"unknown kind", "R,DE89,2026-11-02,70,EUR,A,,,C1,70,0,manual:x,1.00,x,k1,2026-11-23T12:04:05Z,,,BQ,411C1,refund,",
			`"refund" is not a posting kind`},
		{"posting naming an item", "R,DE89,2026-11-02,70,EUR,A,INV-1,,C1,70,0,manual:x,1.00,x,k1,2026-11-23T12:04:05Z,,,BQ,411C1,on_account,",
			`posting names open item "INV-1"`},
		{"allocation without code", "R,DE89,2026-11-02,70,EUR,A,INV-1,,C1,70,0,r,1.00,x,k1,2026-11-23T12:04:05Z,,,BQ,411C1,,",
			`"" is not a lettering code`},
		{"bad posted amount", "R,DE89,2026-11-02,70,EUR,A,,,C1,7O,0,manual:x,1.00,x,k1,2026-11-23T12:04:05Z,,,BQ,411C1,on_account,",
			`column "allocated_amount"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, journal := newLedger(t)
			if err := os.MkdirAll(filepath.Dir(journal), 0o755); err != nil {
				t.Fatal(err)
			}
			// rows of the shape before the FX columns, still read
			if err := os.WriteFile(journal, []byte(strings.Join(postingJournalHeader, ",")+"\n"+tt.row+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := l.Applied(context.Background(), []string{"k1"})
			if !errors.Is(err, ErrJournal) || !strings.Contains(err.Error(), tt.errContains) {
				t.Fatalf("Applied = %v, want ErrJournal with %q", err, tt.errContains)
			}
		})
	}
}

func TestUnletterPostings(t *testing.T) {
	ctx := context.Background()
	l, journal := newPostingLedger(t)
	d := withPostings(decision("k1", "R1", alloc("INV-1", "50.00", "")), posting(domain.OnAccount, "C1", "20.00", "advance"))
	wo := withPostings(decision("k2", "R2"), posting(domain.WriteOffPosting, "", "70.00", "UNKNOWN"))
	if err := l.Apply(ctx, []connectors.KeyedDecision{d, wo}); err != nil {
		t.Fatal(err)
	}
	rev := connectors.Reversal{Key: "u1", Reverses: "k1", Tx: d.Tx, Allocations: d.Decision.Allocations,
		Postings: d.Decision.Postings, Items: d.Items, Reason: "wrong customer"}
	for i := 0; i < 2; i++ {
		if err := l.Unletter(ctx, rev); err != nil {
			t.Fatalf("Unletter %d: %v", i, err)
		}
	}
	// A postings-only decision is reversed too; its customer_id is empty.
	if err := l.Unletter(ctx, connectors.Reversal{Key: "u2", Reverses: "k2", Tx: wo.Tx, Postings: wo.Decision.Postings}); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, l.unletteringsPath())
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(UnletteringsHeader, ",") {
		t.Fatalf("unletterings = %q", rows)
	}
	if r := rows[1]; r[0] != "u1" || r[4] != "C1" || r[5] != "INV-1:50.00" || r[6] != "AAA" || r[9] != "on_account:411C1:20.00" {
		t.Errorf("reversal of k1 = %q", r)
	}
	if r := rows[2]; r[0] != "u2" || r[4] != "" || r[5] != "" || r[6] != "" || r[9] != "write_off:758:70.00" {
		t.Errorf("reversal of k2 = %q", r)
	}
	if r := openResiduals(t, l); r["INV-1"] != "100.00" {
		t.Errorf("INV-1 = %q after the reversal, want 100.00", r["INV-1"])
	}
	got, err := (&Ledger{cfg: l.cfg}).Applied(ctx, []string{"k1", "k2", "u1", "u2"})
	if err != nil || len(got) != 4 || !got["u1"] || !got["u2"] {
		t.Errorf("Applied = %v, %v", got, err)
	}
	if j := readRows(t, journal); len(j) != 1+3 {
		t.Errorf("journal has %d rows: matches.csv never holds unletterings", len(j))
	}
}

// An unletterings file from the version before the postings column keeps
// its shape: allocations are still reversed there, postings are refused.
func TestUnletterPostingsOldFile(t *testing.T) {
	ctx := context.Background()
	l, _ := newPostingLedger(t)
	plain := decision("k1", "R1", alloc("INV-1", "50.00", ""))
	acct := withPostings(decision("k2", "R2"), posting(domain.OnAccount, "C1", "70.00", ""))
	if err := l.Apply(ctx, []connectors.KeyedDecision{plain, acct}); err != nil {
		t.Fatal(err)
	}
	path := l.unletteringsPath()
	old := strings.Join(UnletteringsHeader[:oldUnletteringsWidth], ",") + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	err := l.Unletter(ctx, connectors.Reversal{Key: "u2", Reverses: "k2", Tx: acct.Tx, Postings: acct.Decision.Postings})
	var re *connectors.RejectedError
	if !errors.As(err, &re) || re.Key != "u2" || !strings.Contains(re.Reason, "rotate it") {
		t.Fatalf("Unletter of postings into an old file = %v", err)
	}
	if err := l.Unletter(ctx, connectors.Reversal{Key: "u1", Reverses: "k1", Tx: plain.Tx, Allocations: plain.Decision.Allocations}); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, path)
	if len(rows) != 2 || len(rows[1]) != oldUnletteringsWidth || rows[1][0] != "u1" {
		t.Fatalf("old unletterings file = %q", rows)
	}
	if r := openResiduals(t, l); r["INV-1"] != "100.00" {
		t.Errorf("INV-1 = %q, want 100.00", r["INV-1"])
	}
	// A foreign file is an error, not silently skipped.
	if err := os.WriteFile(path, []byte("a,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Applied(ctx, []string{"u1"}); !errors.Is(err, ErrJournal) {
		t.Errorf("Applied with a foreign unletterings file = %v", err)
	}
}

// FuzzLoadJournal: whatever follows the header, loading the journal never
// panics; when it loads, appending a decision with an allocation and a
// posting and loading again finds that decision and every key seen before.
func FuzzLoadJournal(f *testing.F) {
	f.Add("R,DE89,2026-11-02,70,EUR,A,,,C1,70,0,manual:on_account,1.00,x,k1,2026-11-23T12:04:05Z,,,BQ,411C1,on_account,\n")
	f.Add("R,DE89,2026-11-02,70,EUR,A,INV-1,D,C1,70,0,r,1.00,x,k1,2026-11-23T12:04:05Z,AAA,2026-11-23,BQ,411C1,,\n")
	f.Add("R,DE89,2026-11-02,70,EUR,\"A\nB\",,,,0.30,0,manual:write_off,1.00,x,k2,2026-11-23T12:04:05Z,,,BQ,758,write_off,\"a, b\"\nR,DE")
	f.Add("x,y\n")
	f.Fuzz(func(t *testing.T, body string) {
		dir := t.TempDir()
		journal := filepath.Join(dir, "m.csv")
		if err := os.WriteFile(journal, []byte(strings.Join(postingJournalHeader, ",")+"\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := loadJournal(journal)
		if err != nil {
			return
		}
		l, err := New(Config{OpenItems: filepath.Join(dir, "i.csv"), Journal: journal, WriteOffAccount: "758"})
		if err != nil {
			t.Fatal(err)
		}
		d := withPostings(decision("k-fuzz", "RF", alloc("INV-1", "1", "")), posting(domain.OnAccount, "C1", "2", "r"))
		if err := l.Apply(context.Background(), []connectors.KeyedDecision{d}); err != nil {
			t.Fatalf("Apply after a successful load: %v", err)
		}
		again, err := loadJournal(journal)
		if err != nil {
			t.Fatalf("reloading: %v", err)
		}
		if !again.keys["k-fuzz"] || len(again.postings["k-fuzz"]) != 1 {
			t.Fatalf("the appended decision is not read back")
		}
		for k := range st.keys {
			if !again.keys[k] {
				t.Fatalf("key %q lost", k)
			}
		}
	})
}
