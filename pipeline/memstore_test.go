package pipeline

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// TestMemoryStoreKeepsWhatStoreKeeps is the contract of the memory store:
// a pass over it reads back, after committing and writing back, what it
// reads back from an empty SQL store — the same transactions in the same
// states and order, the same decisions pending, rejected or applied, the
// same letters — and so writes the same journal and reports.
func TestMemoryStoreKeepsWhatStoreKeeps(t *testing.T) {
	// Two intraday reports give one bank reference, amount and date to
	// payments of two payers (TestPossibleDuplicate).
	const day = "2026-11-17"
	first := report052("rpt-1", day, "", credit(day, "TX4711", idPay("ALPHA SA", "100.00", rf("1001"))))
	second := report052("rpt-2", day, "", credit(day, "TX4711", idPay("ZULU LTD", "100.00", rf("1001"))))
	for _, tc := range []struct {
		name   string
		ledger func(connectors.Ledger) connectors.Ledger
		files  map[string][]byte
		// reason is one the exceptions must show (the identity rule's
		// verdicts change the matcher's decisions before they are kept).
		reason string
	}{
		{name: "examples"},
		{name: "a possible duplicate", files: map[string][]byte{first.name: first.doc.XML(),
			second.name: second.doc.XML()}, reason: decide.ReasonPossibleDuplicate},
		{name: "ledger refuses", ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}}
		}},
		{name: "ledger refuses after a partial write", ledger: func(l connectors.Ledger) connectors.Ledger {
			return &refusingLedger{Ledger: l, refuse: map[string]bool{"OI-1012": true}, partial: true}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			sql, err := state.OpenScratchSQLite(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer sql.Close()
			mem := newMemoryStore()
			var outs []string
			for _, st := range []StateStore{sql, mem} {
				dir := oneShotDir(t, tc.files)
				out := filepath.Join(dir, "out")
				src, err := local.New("statements", local.Config{Dir: filepath.Join(dir, "statements")})
				if err != nil {
					t.Fatal(err)
				}
				fl, err := file.New(file.Config{OpenItems: filepath.Join(dir, "open_items.csv"), Journal: filepath.Join(out, "matches.csv")})
				if err != nil {
					t.Fatal(err)
				}
				var led connectors.Ledger = fl
				if tc.ledger != nil {
					led = tc.ledger(fl)
				}
				if err := os.MkdirAll(out, 0o755); err != nil {
					t.Fatal(err)
				}
				clock := time.Date(2026, 11, 18, 9, 30, 0, 0, time.UTC)
				job := &Job{Name: "j", Source: src, Ledger: led, Store: st, Matching: matcher.DefaultConfig(),
					Parse: camt.DefaultOptions(), ReportDir: out, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return clock }}
				if _, err := job.Run(ctx); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, out)
			}
			for _, name := range []string{"matches.csv", "exceptions.csv"} {
				if a, b := readOut(t, outs[0], name), readOut(t, outs[1], name); a != b {
					t.Errorf("%s differs:\n--- SQL\n%s\n--- memory\n%s", name, a, b)
				}
			}
			all := []string{decide.TxOpen, decide.TxLettered, decide.TxIgnored, decide.TxHeld, decide.TxWaiting, decide.TxCovered}
			a, err := sql.Transactions(ctx, "j", all...)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := mem.Transactions(ctx, "j", all...)
			if len(a) == 0 || jsonText(a) != jsonText(b) {
				t.Errorf("transactions differ:\n SQL    %+v\n memory %+v", a, b)
			}
			ea, _ := sql.Exceptions(ctx, "j")
			eb, _ := mem.Exceptions(ctx, "j")
			if len(ea) == 0 || jsonText(ea) != jsonText(eb) {
				t.Errorf("exceptions differ:\n SQL    %+v\n memory %+v", ea, eb)
			}
			if tc.reason != "" && !strings.Contains(jsonText(eb), `"reason":"`+tc.reason+`"`) {
				t.Errorf("no exception for %s: %+v", tc.reason, eb)
			}
			rejected := 0
			for _, st := range a {
				la, na, _ := sql.Letters(ctx, "j", st.Tx.Key)
				lb, nb, _ := mem.Letters(ctx, "j", st.Tx.Key)
				if na != nb || len(la) != len(lb) {
					t.Errorf("letters of %s: SQL %d %+v, memory %d %+v", st.Tx.Ref, na, la, nb, lb)
				}
				for i := range min(len(la), len(lb)) {
					if la[i].Key != lb[i].Key || la[i].State != lb[i].State {
						t.Errorf("letter %d of %s: SQL %s %s, memory %s %s", i, st.Tx.Ref, la[i].Key, la[i].State, lb[i].Key, lb[i].State)
					}
					// The memory store keeps the pass's items once
					// (itemsSharer); a letter still names its own.
					if len(la[i].Items) == 0 || jsonText(la[i].Items) != jsonText(lb[i].Items) {
						t.Errorf("items of letter %d of %s: SQL %+v, memory %+v", i, st.Tx.Ref, la[i].Items, lb[i].Items)
					}
					sa, _, _ := sql.DecisionState(ctx, "j", la[i].Key)
					sb, _, _ := mem.DecisionState(ctx, "j", la[i].Key)
					if sa != sb {
						t.Errorf("decision %s: SQL %s, memory %s", la[i].Key, sa, sb)
					}
				}
				ra, _, _ := sql.LastRejected(ctx, "j", st.Tx.Key)
				rb, _, _ := mem.LastRejected(ctx, "j", st.Tx.Key)
				if jsonText(ra) != jsonText(rb) {
					t.Errorf("last refusal of %s: SQL %+v, memory %+v", st.Tx.Ref, ra, rb)
				}
				if ra != nil {
					rejected++
				}
			}
			if (tc.ledger != nil) != (rejected > 0) {
				t.Errorf("%d refusals recorded", rejected)
			}
			pa, _ := sql.Pending(ctx, "j")
			pb, _ := mem.Pending(ctx, "j")
			if len(pa) != 0 || len(pb) != 0 {
				t.Errorf("pending after the write-back: SQL %d, memory %d", len(pa), len(pb))
			}
		})
	}
}

// jsonText is v as the SQL store keeps it (JSON): what a store keeps of a
// transaction or decision, without the matcher's working fields.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestLetteredMemoryInTxOrder: two lettered payments with one bank
// reference and end-to-end ID (in two accounts): both stores give the
// matcher's memory the one last in txOrder (order.go), whatever the order
// they were recorded in or their keys.
func TestLetteredMemoryInTxOrder(t *testing.T) {
	ctx := context.Background()
	sql, err := state.OpenScratchSQLite(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close()
	at := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	lettered := func(key, account string) decide.DecisionRecord {
		tx := testTx("R1", "100.00")
		tx.Key, tx.Account, tx.EndToEndID = key, account, "E2E-1"
		return decide.DecisionRecord{Key: "ltr-" + key, Tx: &tx, FileHash: "h1", New: true,
			Decision: domain.Decision{TxKey: key, Outcome: domain.Auto, Rule: "reference",
				Allocations: []domain.Allocation{{ItemID: "OI-" + key, Amount: domain.MustAmount("100.00")}}}}
	}
	for _, st := range []StateStore{sql, newMemoryStore()} {
		// k2 in account A is first in txOrder, k1 in account B last.
		c := state.Commit{Job: "j", At: at, Decisions: []decide.DecisionRecord{lettered("k1", "B"), lettered("k2", "A")}}
		if err := st.SaveCommit(ctx, c); err != nil {
			t.Fatal(err)
		}
		mem, err := st.Memory(ctx, "j", at.AddDate(0, 0, -1))
		if err != nil {
			t.Fatal(err)
		}
		if mem.LetteredRefs["R1"] != "k1" || mem.LetteredRefs["E2E-1"] != "k1" || len(mem.Lettered) != 2 {
			t.Errorf("%T: lettered refs %v (lettered %v), want R1 and E2E-1 → k1", st, mem.LetteredRefs, mem.Lettered)
		}
	}
}

// The memory store keeps no record of re-deliveries, so the intake of its
// pass does not copy them; a SQL store's pass records them.
func TestTakeInDeliveriesByStore(t *testing.T) {
	ctx := t.Context()
	sql, err := state.OpenSQLite(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer sql.Close()
	for _, tc := range []struct {
		store StateStore
		want  int
	}{{sql, 1}, {newMemoryStore(), 0}} {
		j := &Job{Name: "j", Store: tc.store, Log: slog.New(slog.DiscardHandler)}
		res := Result{Outcomes: map[domain.Outcome]int{}}
		p := &pass{j: j, res: &res, log: j.Log}
		p.staged = []stagedFile{
			{ref: connectors.StatementRef{Path: "a.xml"}, hash: "h1", txs: []domain.Transaction{testTx("R1", "10.00")}},
			{ref: connectors.StatementRef{Path: "b.xml"}, hash: "h2", txs: []domain.Transaction{testTx("R1", "10.00")}},
		}
		if err := p.takeIn(ctx); err != nil {
			t.Fatal(err)
		}
		if res.Duplicates != 1 || len(p.fresh) != 1 {
			t.Fatalf("%T: %d duplicates, %d new, want 1 and 1", tc.store, res.Duplicates, len(p.fresh))
		}
		if got := len(p.ids.deliveries); got != tc.want {
			t.Errorf("%T: %d re-deliveries recorded, want %d", tc.store, got, tc.want)
		}
		// what the matcher does not need of the intake is not kept through it
		if p.ids.keys != nil || p.ids.fetched != nil || p.ids.classes != nil {
			t.Errorf("%T: the intake keeps %d keys, %d fetched classes, %d classes after takeIn",
				tc.store, len(p.ids.keys), len(p.ids.fetched), len(p.ids.classes))
		}
	}
}
