package pipeline

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/connectors/source/local"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/camtgen"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// delivery is one statement file as a bank drops it.
type delivery struct {
	name string
	doc  interface{ XML() []byte } // a camtgen.Doc, or docs
}

// docs are several documents in one file, one after the other.
type docs []camtgen.Doc

func (ds docs) XML() []byte {
	var b []byte
	for _, d := range ds {
		b = append(b, d.XML()...)
	}
	return b
}

func (d delivery) bytes() []byte { return d.doc.XML() }

// idPay is a booked credit of a test scenario: the payer's name identifies
// the true payment; rf (optional) is an RF reference of an open item of
// the same amount, so that the payment is lettered.
func idPay(name, amount, rf string) camtgen.Tx {
	t := camtgen.Tx{Name: name, Amount: amount, Ustrd: []string{"payment " + name}}
	if rf != "" {
		t.CdtrRef = rf
	}
	return t
}

func rf(base string) string {
	r, ok := domain.MakeRF(base)
	if !ok {
		panic("bad RF base " + base)
	}
	return r
}

// idItems are open items that the payments quoting rf("1001")… settle.
func idItems() []domain.OpenItem {
	var out []domain.OpenItem
	for i, a := range []string{"100.00", "200.00", "300.00", "400.00", "500.00"} {
		it := testItem(fmt.Sprintf("OI-%d", 1001+i), fmt.Sprintf("C%d", i+1), a)
		it.PaymentReference = rf(fmt.Sprint(1001 + i))
		out = append(out, it)
	}
	return out
}

func stmt053(msgID, day string, entries ...camtgen.Entry) camtgen.Doc {
	return camtgen.Doc{Message: "053", MsgID: msgID, Statements: []camtgen.Stmt{{ID: msgID, Account: testAccount, Entries: entries}}}
}

func credit(day, acctSvcrRef string, txs ...camtgen.Tx) camtgen.Entry {
	e := camtgen.Entry{Credit: true, BookingDate: day, AcctSvcrRef: acctSvcrRef, Txs: txs}
	e.Amount = sumTx(txs)
	return e
}

func sumTx(txs []camtgen.Tx) string {
	var s domain.Amount
	for _, t := range txs {
		s = s.Add(domain.MustAmount(t.Amount))
	}
	return s.StringFixed(2)
}

// accounted is what a run left: for each transaction lettered or reported,
// its tx_ref and payer, and the cash it was accounted for.
type accounted struct {
	refs  []string // tx_ref of every transaction lettered or reported
	payer []string // the payer of each, in the same order
}

// accountFor reads the ledger's letters and the exceptions report: every
// transaction appears once however many rows it has.
func accountFor(t *testing.T, led *postingLedger, reportDir string) accounted {
	t.Helper()
	seen := map[string]string{}
	for _, kd := range led.applied {
		seen[kd.Tx.Ref] = kd.Tx.Counterparty.Name
	}
	f, err := os.Open(filepath.Join(reportDir, "exceptions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		seen[r[0]] = r[5]
	}
	var a accounted
	for ref := range seen {
		a.refs = append(a.refs, ref)
	}
	sort.Strings(a.refs)
	for _, ref := range a.refs {
		a.payer = append(a.payer, seen[ref])
	}
	return a
}

func sortedCopy(ss []string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

type idScenario struct {
	name string
	// runs are the deliveries of each pass of the job (files stay in the
	// folder, as a source without archive_dir leaves them).
	runs [][]delivery
	// want is the payer of every booked credit that must be accounted for
	// (lettered or reported) exactly once, with repeats for two payments
	// of one payer.
	want []string
	// wantMatch is want for lettrage match over all the deliveries at once
	// (nil: want).
	wantMatch []string
}

// runJobScenario runs the scenario's passes on one state store and
// returns what the ledger and the last exceptions report hold.
func runJobScenario(t *testing.T, sc idScenario, clockStep time.Duration) (accounted, *postingLedger, *state.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	return runJobScenarioOn(t, sc, clockStep, func() (*state.Store, error) { return state.OpenSQLite(path) })
}

// runJobScenarioOn is runJobScenario on the store open gives.
func runJobScenarioOn(t *testing.T, sc idScenario, clockStep time.Duration, open func() (*state.Store, error)) (accounted, *postingLedger, *state.Store) {
	t.Helper()
	stmts, out, store, src := passFolder(t, open)
	led := newPostingLedger(idItems()...)
	clock := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	job := &Job{Name: "id", Source: src, Ledger: led, Store: store, Matching: matcher.DefaultConfig(),
		Parse: camt.DefaultOptions(), ReportDir: out, Metrics: NewMetrics("test"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return clock }}
	for i, run := range sc.runs {
		for _, d := range run {
			if err := os.WriteFile(filepath.Join(stmts, d.name), d.bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := job.Run(context.Background()); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		clock = clock.Add(clockStep)
	}
	return accountFor(t, led, out), led, store
}

func runMatchScenario(t *testing.T, sc idScenario) accounted {
	t.Helper()
	dir := t.TempDir()
	stmts := filepath.Join(dir, "statements")
	out := filepath.Join(dir, "out")
	for _, d := range []string{stmts, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, run := range sc.runs {
		for _, d := range run {
			if err := os.WriteFile(filepath.Join(stmts, d.name), d.bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	src, err := local.New("statements", local.Config{Dir: stmts})
	if err != nil {
		t.Fatal(err)
	}
	led := newPostingLedger(idItems()...)
	_, err = MatchFiles(context.Background(), MatchOptions{Name: "id", Source: src, Ledger: led,
		Matching: matcher.DefaultConfig(), Parse: camt.DefaultOptions(), ReportDir: out,
		Now: func() time.Time { return time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return accountFor(t, led, out)
}

// identityScenarios are the real bank behaviours of issue 12, cases 1–3:
// each fails (a credit lost or counted twice) when identity is the bank
// reference alone.
func identityScenarios() []idScenario {
	const d1, d2 = "2026-11-16", "2026-11-17"
	notProvided := func(p camtgen.Tx) camtgen.Tx { p.AcctSvcrRef, p.EndToEndID = "NOTPROVIDED", "NOTPROVIDED"; return p }
	swiss := func(day, msg string, entryRefs []string, pays ...camtgen.Tx) delivery {
		var es []camtgen.Entry
		for i, p := range pays {
			ref := ""
			if entryRefs != nil {
				ref = entryRefs[i]
			}
			es = append(es, credit(day, ref, notProvided(p)))
		}
		return delivery{msg + ".xml", stmt053(msg, day, es...)}
	}
	restart := func(day, msg string, pays ...camtgen.Tx) delivery {
		var es []camtgen.Entry
		for i, p := range pays {
			es = append(es, credit(day, fmt.Sprintf("%06d", i+1), p))
		}
		return delivery{msg + ".xml", stmt053(msg, day, es...)}
	}
	report052 := func(msg, status, day string, e camtgen.Entry) delivery {
		e.Status = status
		if status == "PDNG" {
			e.BookingDate = ""
			e.ValueDate = day
		}
		return delivery{msg + ".xml", camtgen.Doc{Message: "052", MsgID: msg,
			Statements: []camtgen.Stmt{{ID: msg, Account: testAccount, Entries: []camtgen.Entry{e}}}}}
	}
	batch053 := func(msg, day string, n int, amount string) delivery {
		return delivery{msg + ".xml", stmt053(msg, day, camtgen.Entry{Credit: true, BookingDate: day, Amount: amount,
			AcctSvcrRef: "BATCH-77", NtryRef: "QRR-COLL-9", Batch: n, BatchMsgID: "CAMT054-9"})}
	}
	notif054 := func(msg, day string, pays ...camtgen.Tx) delivery {
		e := credit(day, "BATCH-77", pays...)
		e.NtryRef = "QRR-COLL-9"
		return delivery{msg + ".xml", camtgen.Doc{Message: "054", MsgID: msg,
			Statements: []camtgen.Stmt{{ID: msg, Account: testAccount, Entries: []camtgen.Entry{e}}}}}
	}
	pA, pB := idPay("ALPHA SA", "100.00", rf("1001")), idPay("BRAVO SARL", "200.00", rf("1002"))
	pC, pD := idPay("CHARLIE GMBH", "300.00", ""), idPay("DELTA BV", "100.00", "")
	return []idScenario{
		{name: "swiss NOTPROVIDED with entry refs, two days",
			runs: [][]delivery{{swiss(d1, "ch-1", []string{"E1", "E2"}, pA, pC)}, {swiss(d2, "ch-2", []string{"E3", "E4"}, pB, pD)}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		{name: "swiss NOTPROVIDED everywhere, two days",
			runs: [][]delivery{{swiss(d1, "ch-1", nil, pA, pC)}, {swiss(d2, "ch-2", nil, pB, pD)}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		{name: "swiss NOTPROVIDED, two files one run",
			runs: [][]delivery{{swiss(d1, "ch-1", nil, pA, pC), swiss(d2, "ch-2", nil, pB, pD)}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		{name: "numbering restarts per statement",
			runs: [][]delivery{{restart(d1, "r-1", pA, pC)}, {restart(d2, "r-2", pB, pD)}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		// Conservation (issue 12): an intraday report numbers its
		// entries from 000001, and so does the day's statement: the same
		// credit has another number in each, and another credit the same.
		{name: "numbering restarts per statement, intraday report then the day's statement",
			runs: [][]delivery{{func() delivery {
				d := restart(d1, "rpt-1", pA)
				doc := d.doc.(camtgen.Doc)
				doc.Message = "052"
				d.doc = doc
				return d
			}()}, {restart(d1, "r-1", pC, pA)}},
			want: []string{"ALPHA SA", "CHARLIE GMBH"}},
		{name: "numbering restarts per statement, a statement over two days sent again",
			runs: [][]delivery{{restart(d1, "r-1", pA, pC), restart(d2, "r-2", pB, pD)}, {func() delivery {
				d := restart(d1, "r-12", pA, pC)
				doc := d.doc.(camtgen.Doc)
				doc.Statements[0].Entries = append(doc.Statements[0].Entries, credit(d2, "000003", pB), credit(d2, "000004", pD))
				d.doc = doc
				return d
			}()}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		{name: "numbering restarts, same amounts on both days",
			runs: [][]delivery{{restart(d1, "r-1", pD, pC)}, {restart(d2, "r-2", pA, idPay("ECHO SAS", "300.00", ""))}},
			want: []string{"ALPHA SA", "CHARLIE GMBH", "DELTA BV", "ECHO SAS"}},
		{name: "the same statement delivered again under another name",
			runs: [][]delivery{{restart(d1, "r-1", pA, pC)}, {{"r-1-again.xml", func() camtgen.Doc {
				d := stmt053("r-1-resent", d1, credit(d1, "000001", pA), credit(d1, "000002", pC))
				return d
			}()}}},
			want: []string{"ALPHA SA", "CHARLIE GMBH"}},
		{name: "pending in a camt.052, then booked, two runs",
			runs: [][]delivery{{report052("rpt-1", "PDNG", d1, credit(d1, "P-1", pA))}, {restart(d1, "r-1", pC), {"day.xml", stmt053("day", d1, credit(d1, "P-1", pA))}}},
			want: []string{"ALPHA SA", "CHARLIE GMBH"}},
		{name: "pending in a camt.052, then booked, one run",
			runs: [][]delivery{{report052("a-rpt-1", "PDNG", d1, credit(d1, "P-1", pA)), {"z-day.xml", stmt053("day", d1, credit(d1, "P-1", pA))}}},
			want: []string{"ALPHA SA"}},
		{name: "booked in a camt.052, then in the camt.053 with more detail",
			runs: [][]delivery{{report052("rpt-1", "BOOK", d1, credit(d1, "P-1", camtgen.Tx{Amount: "300.00"}))}, {{"day.xml", stmt053("day", d1, credit(d1, "P-1", pC))}}},
			want: []string{"CHARLIE GMBH"}},
		{name: "one file: the same statement twice",
			runs: [][]delivery{{{"twice.xml", docs{stmt053("r-1", d1, credit(d1, "000001", pA), credit(d1, "000002", pC)),
				stmt053("r-1", d1, credit(d1, "000001", pA), credit(d1, "000002", pC))}}}},
			want: []string{"ALPHA SA", "CHARLIE GMBH"}},
		{name: "one file: two days of statements",
			runs: [][]delivery{{{"two.xml", docs{restart(d1, "r-1", pA, pC).doc.(camtgen.Doc), restart(d2, "r-2", pB, pD).doc.(camtgen.Doc)}}}},
			want: []string{"ALPHA SA", "BRAVO SARL", "CHARLIE GMBH", "DELTA BV"}},
		{name: "one file: the intraday report, then the statement",
			runs: [][]delivery{{{"day.xml", docs{report052("rpt-1", "BOOK", d1, credit(d1, "P-1", camtgen.Tx{Amount: "300.00"})).doc.(camtgen.Doc),
				stmt053("day", d1, credit(d1, "P-1", pC), credit(d1, "P-2", pA))}}}},
			want: []string{"ALPHA SA", "CHARLIE GMBH"}},
		{name: "batch entry first, then its camt.054",
			runs:      [][]delivery{{batch053("b-053", d1, 2, "300.00")}, {notif054("b-054", d1, pA, pB)}},
			want:      []string{"ALPHA SA", "BRAVO SARL"},
			wantMatch: []string{"ALPHA SA", "BRAVO SARL"}},
		{name: "camt.054 first, then the batch entry",
			runs: [][]delivery{{notif054("b-054", d1, pA, pB)}, {batch053("b-053", d1, 2, "300.00")}},
			want: []string{"ALPHA SA", "BRAVO SARL"}},
		{name: "batch entry and camt.054 in one run",
			runs: [][]delivery{{batch053("b-053", d1, 2, "300.00"), notif054("b-054", d1, pA, pB)}},
			want: []string{"ALPHA SA", "BRAVO SARL"}},
		// Conservation (issue 12): a payer's credit of its own entry
		// is not a re-delivery of a batch detail of the same payer, amount
		// and day that says less (no remittance): the day's statement books
		// the batch as one entry and the credit as another.
		{name: "a credit of its own entry is not a batch detail of the same payer and amount",
			runs: [][]delivery{{notif054("b-054", d1, pA, camtgen.Tx{Name: "ZULU LTD", Amount: "300.00"})},
				{{"day.xml", stmt053("day", d1, camtgen.Entry{Credit: true, BookingDate: d1, Amount: "400.00",
					AcctSvcrRef: "BATCH-77", NtryRef: "QRR-COLL-9", Batch: 2}, credit(d1, "", idPay("ZULU LTD", "300.00", "")))}}},
			want: []string{"ALPHA SA", "ZULU LTD", "ZULU LTD"}},
		// Conservation (issue 12): two batches of one day, without
		// bank references, each with a detail of the same payer, amount and
		// remittance: a detail of one is not a re-delivery of the other's
		// (their entries' Btch/MsgId differ).
		{name: "a detail of one batch is not a detail of another batch",
			runs: func() [][]delivery {
				pX := camtgen.Tx{Name: "ECHO SAS", Amount: "45.50", Ustrd: []string{"payment ECHO SAS"}}
				coll := func(msg string, amount string, txs ...camtgen.Tx) camtgen.Entry {
					return camtgen.Entry{Credit: true, BookingDate: d1, Amount: amount, Batch: 2, BatchMsgID: msg, Txs: txs}
				}
				return [][]delivery{
					{{"b-054.xml", camtgen.Doc{Message: "054", MsgID: "b-054", Statements: []camtgen.Stmt{{ID: "b-054", Account: testAccount,
						Entries: []camtgen.Entry{coll("COLL-1", "145.50", pA, pX)}}}}}},
					{{"day.xml", stmt053("day", d1, coll("COLL-1", "145.50"), coll("COLL-2", "245.50", pX, idPay("ZULU LTD", "200.00", "")))}},
				}
			}(),
			want: []string{"ALPHA SA", "ECHO SAS", "ECHO SAS", "ZULU LTD"}},
		// Conservation (issue 12): two credits of one payer, amount
		// and day, told apart by their remittance; an intraday report read
		// after the day's statement shows one bare, then the other in full.
		// The bare one may be either; taking it for the one the full one is
		// left the full one without a match, so it was recorded again.
		{name: "re-deliveries are matched as a whole, not first come first served",
			runs: func() [][]delivery {
				one := camtgen.Tx{Name: "ECHO SAS", Amount: "100.00", Ustrd: []string{"payment one"}}
				two := camtgen.Tx{Name: "ECHO SAS", IBAN: "FR7630006000011234567890189", EndToEndID: "E2E-2", Amount: "100.00",
					Ustrd: []string{"payment two"}}
				bare := camtgen.Entry{Credit: true, BookingDate: d1, Amount: "100.00"}
				return [][]delivery{
					{{"day.xml", stmt053("day", d1, credit(d1, "", one), credit(d1, "", two))}},
					{{"rpt.xml", camtgen.Doc{Message: "052", MsgID: "rpt", Statements: []camtgen.Stmt{{ID: "rpt", Account: testAccount,
						Entries: []camtgen.Entry{bare, credit(d1, "", one)}}}}}},
				}
			}(),
			want: []string{"ECHO SAS", "ECHO SAS"}},
		// Conservation (issue 12): an intraday report shows a credit of ZULU;
		// the next shows a bare entry of the same amount (XRAY's, as the
		// day's statement will tell), then ZULU's credit again. The bare one
		// may be any payment of its class: it must not take ZULU's recorded
		// credit from the delivery that names it, which was then recorded a
		// second time.
		{name: "the closest re-delivery claims a recorded credit first",
			runs: func() [][]delivery {
				zulu := camtgen.Tx{Name: "ZULU LTD", Amount: "12.00", Ustrd: []string{"donation"}}
				xray := camtgen.Tx{Name: "XRAY OY", EndToEndID: "E2E-6", Amount: "12.00", Ustrd: []string{"refund 6"}}
				bare := camtgen.Entry{Credit: true, BookingDate: d1, Amount: "12.00"}
				rpt := func(msg string, es ...camtgen.Entry) delivery {
					return delivery{msg + ".xml", camtgen.Doc{Message: "052", MsgID: msg, Statements: []camtgen.Stmt{{ID: msg,
						Account: testAccount, Entries: es}}}}
				}
				return [][]delivery{{rpt("rpt-1", credit(d1, "", zulu))}, {rpt("rpt-2", bare, credit(d1, "", zulu))},
					{{"day.xml", stmt053("day", d1, credit(d1, "", xray), credit(d1, "", zulu))}}}
			}(),
			want: []string{"XRAY OY", "ZULU LTD"}},
		// Conservation (issue 12): the same, when the other delivery is not
		// bare but says as much as the recorded credit, none of it the same
		// (an end-to-end id and a remittance, where the record has a name and
		// an IBAN): the delivery that agrees with the record on its name and
		// IBAN claims it first.
		{name: "the re-delivery that agrees on more fields claims a recorded credit first",
			runs: func() [][]delivery {
				yankee := camtgen.Tx{Name: "YANKEE SPA", IBAN: "IT60X0542811101000000123456", Amount: "100.00", Ustrd: []string{"donation"}}
				xray := camtgen.Tx{Name: "XRAY OY", EndToEndID: "E2E-6", Amount: "100.00", Ustrd: []string{"donation"}}
				rpt := func(msg string, es ...camtgen.Entry) delivery {
					return delivery{msg + ".xml", camtgen.Doc{Message: "052", MsgID: msg, Statements: []camtgen.Stmt{{ID: msg,
						Account: testAccount, Entries: es}}}}
				}
				yankeeLite, xrayLite := yankee, xray
				yankeeLite.Ustrd, xrayLite.Name = nil, ""
				return [][]delivery{{rpt("rpt-1", credit(d1, "", yankeeLite))}, {rpt("rpt-2", credit(d1, "", xrayLite), credit(d1, "", yankee))},
					{{"day.xml", stmt053("day", d1, credit(d1, "", xray), credit(d1, "", yankee))}}}
			}(),
			want: []string{"XRAY OY", "YANKEE SPA"}},
	}
}

// TestIdentityScenariosPostgres: the same passes on the PostgreSQL state
// store (several replicas share it).
func TestIdentityScenariosPostgres(t *testing.T) {
	for _, sc := range identityScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			dsn := pg.Database(t)
			got, _, _ := runJobScenarioOn(t, sc, 6*time.Hour, func() (*state.Store, error) { return state.OpenPostgres(t.Context(), dsn) })
			if want := sortedCopy(sc.want); strings.Join(sortedCopy(got.payer), "|") != strings.Join(want, "|") {
				t.Errorf("accounted for %q (refs %q), want each of %q once", got.payer, got.refs, want)
			}
		})
	}
}

func TestIdentityScenarios(t *testing.T) {
	for _, sc := range identityScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Run("once", func(t *testing.T) {
				got, _, _ := runJobScenario(t, sc, 6*time.Hour)
				if want := sortedCopy(sc.want); strings.Join(sortedCopy(got.payer), "|") != strings.Join(want, "|") {
					t.Errorf("accounted for %q (refs %q), want each of %q once", got.payer, got.refs, want)
				}
			})
			t.Run("match", func(t *testing.T) {
				got := runMatchScenario(t, sc)
				want := sc.wantMatch
				if want == nil {
					want = sc.want
				}
				if want := sortedCopy(want); strings.Join(sortedCopy(got.payer), "|") != strings.Join(want, "|") {
					t.Errorf("accounted for %q (refs %q), want each of %q once", got.payer, got.refs, want)
				}
			})
		})
	}
}

func report052(msg, day string, copyDup string, es ...camtgen.Entry) delivery {
	return delivery{msg + ".xml", camtgen.Doc{Message: "052", MsgID: msg,
		Statements: []camtgen.Stmt{{ID: msg, Account: testAccount, CopyDuplicate: copyDup, Entries: es}}}}
}

// TestPossibleDuplicate: two intraday reports of one day give the same
// bank reference, amount and date to two payments of different payers (a
// bank reusing a reference; an entry's number in a statement whose
// numbering restarts is no reference: see identityScenarios). The rule
// cannot tell: the second is recorded and
// reported as a possible duplicate, never dropped and never lettered by
// itself — unless the report declares itself a duplicate (CpyDplctInd).
func TestPossibleDuplicate(t *testing.T) {
	const day = "2026-11-17"
	first := report052("rpt-1", day, "", credit(day, "TX4711", idPay("ALPHA SA", "100.00", rf("1001"))))
	second := func(copyDup string) delivery {
		return report052("rpt-2", day, copyDup, credit(day, "TX4711", idPay("ZULU LTD", "100.00", rf("1001"))))
	}
	for _, tc := range []struct {
		name    string
		copyDup string
		want    []string
	}{
		{"second report", "", []string{"ALPHA SA", "ZULU LTD"}},
		{"declared a duplicate", "DUPL", []string{"ALPHA SA"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := idScenario{runs: [][]delivery{{first}, {second(tc.copyDup)}}, want: tc.want}
			got, led, _ := runJobScenario(t, sc, time.Hour)
			if strings.Join(sortedCopy(got.payer), "|") != strings.Join(tc.want, "|") {
				t.Fatalf("accounted for %q (refs %q), want %q", got.payer, got.refs, tc.want)
			}
			if len(led.applied) != 1 {
				t.Errorf("ledger holds %d letters, want the first payment's only", len(led.applied))
			}
		})
	}
	// The report says so: reason and the reference of the other.
	sc := idScenario{runs: [][]delivery{{first}, {second("")}}}
	got, _, store := runJobScenario(t, sc, time.Hour)
	exc, err := store.Exceptions(context.Background(), "id")
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 1 || exc[0].Decision.Reason != decide.ReasonPossibleDuplicate || exc[0].Tx.Ref != "TX4711#2" ||
		!strings.Contains(exc[0].Decision.Explanation, "possible duplicate of TX4711") ||
		!strings.Contains(exc[0].Decision.Explanation, "payer name") {
		t.Fatalf("exceptions %+v (accounted %q), want ZULU LTD as a possible duplicate of TX4711 (ref TX4711#2)", exc, got.payer)
	}
}

// TestBatchEntryWaitsForItsDetails: a batch entry booked without details
// is neither lettered nor unmatched cash while its camt.054 may still
// come; when the wait is over it is reported (batch_without_details), and
// the details arriving even later close it. The stateless match, which
// sees one folder, reports it at once.
func TestBatchEntryWaitsForItsDetails(t *testing.T) {
	const day = "2026-11-16"
	batch := delivery{"b-053.xml", stmt053("b-053", day, camtgen.Entry{Credit: true, BookingDate: day, Amount: "300.00",
		AcctSvcrRef: "BATCH-77", Batch: 2, BatchMsgID: "CAMT054-9"})}
	e := credit(day, "BATCH-77", idPay("ALPHA SA", "100.00", rf("1001")), idPay("BRAVO SARL", "200.00", rf("1002")))
	details := delivery{"b-054.xml", camtgen.Doc{Message: "054", MsgID: "b-054",
		Statements: []camtgen.Stmt{{ID: "b-054", Account: testAccount, Entries: []camtgen.Entry{e}}}}}

	// Passes 24 h apart: waiting, still waiting, reported, then covered.
	sc := idScenario{runs: [][]delivery{{batch}, {}, {}}}
	got, _, store := runJobScenario(t, sc, 30*time.Hour)
	if len(got.payer) != 1 || got.payer[0] != "" {
		t.Fatalf("after the wait: accounted %q, want the batch entry reported", got.payer)
	}
	exc, err := store.Exceptions(context.Background(), "id")
	if err != nil {
		t.Fatal(err)
	}
	if len(exc) != 1 || exc[0].Decision.Reason != decide.ReasonBatchNoDetails {
		t.Fatalf("exceptions %+v, want the batch entry with reason %s", exc, decide.ReasonBatchNoDetails)
	}

	sc = idScenario{runs: [][]delivery{{batch}}}
	got, _, store = runJobScenario(t, sc, time.Hour)
	if len(got.payer) != 0 {
		t.Errorf("within the wait: accounted %q, want nothing reported yet", got.payer)
	}
	stats, err := store.Stats(context.Background(), "id")
	if err != nil {
		t.Fatal(err)
	}
	if stats[decide.TxWaiting] != 1 {
		t.Errorf("states %v, want one waiting batch entry", stats)
	}

	sc = idScenario{runs: [][]delivery{{batch}, {}, {}, {details}}, want: []string{"ALPHA SA", "BRAVO SARL"}}
	got, led, store := runJobScenario(t, sc, 30*time.Hour)
	if strings.Join(sortedCopy(got.payer), "|") != "ALPHA SA|BRAVO SARL" {
		t.Errorf("details after the wait: accounted %q, want the two details only (the batch entry covered)", got.payer)
	}
	if len(led.applied) != 2 {
		t.Errorf("ledger holds %d letters, want the two details", len(led.applied))
	}
	stats, _ = store.Stats(context.Background(), "id")
	if stats[decide.TxCovered] != 1 {
		t.Errorf("states %v, want the batch entry covered", stats)
	}

	// match: one folder, no details there.
	gotMatch := runMatchScenario(t, idScenario{runs: [][]delivery{{batch}}})
	if len(gotMatch.payer) != 1 {
		t.Errorf("match: accounted %q, want the batch entry reported at once", gotMatch.payer)
	}
}

// TestSetAsideIsCounted: the result says what was set aside and why.
func TestSetAsideIsCounted(t *testing.T) {
	const day = "2026-11-16"
	batch := delivery{"b-053.xml", stmt053("b-053", day, camtgen.Entry{Credit: true, BookingDate: day, Amount: "300.00",
		AcctSvcrRef: "BATCH-77", Batch: 2})}
	e := credit(day, "BATCH-77", idPay("ALPHA SA", "100.00", ""), idPay("BRAVO SARL", "200.00", ""))
	details := delivery{"b-054.xml", camtgen.Doc{Message: "054", MsgID: "b-054",
		Statements: []camtgen.Stmt{{ID: "b-054", Account: testAccount, Entries: []camtgen.Entry{e}}}}}
	again := delivery{"b-054-again.xml", camtgen.Doc{Message: "054", MsgID: "b-054-again",
		Statements: []camtgen.Stmt{{ID: "b-054", Account: testAccount, Entries: []camtgen.Entry{e}}}}}
	dir := t.TempDir()
	for _, d := range []delivery{batch, details, again} {
		if err := os.WriteFile(filepath.Join(dir, d.name), d.bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := local.New("statements", local.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	res, err := MatchFiles(context.Background(), MatchOptions{Source: src, Ledger: newPostingLedger(),
		Matching: matcher.DefaultConfig(), Parse: camt.DefaultOptions(), ReportDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cov, dup := res.SetAside[decide.ReasonCoveredByDetails], res.SetAside[decide.ReasonDuplicateDelivery]
	if cov == nil || cov.Count != 1 || cov.Cash["EUR"].String() != "300.00" {
		t.Errorf("covered %+v, want 1 batch entry of 300.00 EUR", cov)
	}
	if dup == nil || dup.Count != 2 || res.Duplicates != 2 {
		t.Errorf("duplicates %+v (%d), want the 2 details delivered again", dup, res.Duplicates)
	}
}
