package main

// Exactly once against real ledgers: the lettrage binary runs `once` against
// a real Tryton server and a real PostgreSQL ERP database while the test
// kills it (SIGKILL) at every failpoint of the write-back — the pipeline's
// and the connectors' own — and after random delays, restarting it each
// time. A statement file arrives per iteration, as days pass; some invoices
// appear in the ledger only after their payment. At the end the test reads
// the LEDGER ITSELF: every payment is applied exactly once, nothing is
// lost, and the exceptions are right.
//
// `make test` runs a short loop with a fixed seed; LETTRAGE_LONG_CRASH=1
// runs a long one (LETTRAGE_CRASH_ITERATIONS, default 100;
// LETTRAGE_CRASH_SEED, default 1) — docs/CRASH.md records its result.

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lettrage/lettrage/pipeline"
)

// crashInvoice is an open invoice of the scenario.
type crashInvoice struct {
	Label, Party string
	Amount       string // decimal text, 2 digits
	RF           string // its ISO 11649 payment reference
}

// crashTx is one transaction of a generated statement.
type crashTx struct {
	Ref     string // AcctSvcrRef
	Kind    string // full | partial | unknown | late | debit
	Payer   string
	Amount  string
	RF      string // creditor reference (empty: none)
	Invoice string // label of the invoice it pays (full, partial, late)
}

type crashIteration struct {
	Date     time.Time
	Txs      []crashTx
	Invoices []crashInvoice // created in the ledger before this iteration's runs
}

type crashScenario struct {
	Upfront    []crashInvoice
	Iterations []crashIteration
	Invoices   map[string]crashInvoice
	// Created says in which iteration a late invoice is created (absent: never).
	Created map[string]int
}

// rfFor builds a valid ISO 11649 creditor reference for body.
func rfFor(body string) string {
	digits := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r >= '0' && r <= '9':
				b.WriteRune(r)
			case r >= 'A' && r <= 'Z':
				b.WriteString(strconv.Itoa(int(r-'A') + 10))
			}
		}
		return b.String()
	}
	n, _ := new(big.Int).SetString(digits(body+"RF00"), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("RF%02d%s", check, body)
}

func cents(c int64) string {
	if c < 0 {
		return "-" + cents(-c)
	}
	return fmt.Sprintf("%d.%02d", c/100, c%100)
}

func mustCents(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	return w*100 + f
}

// newCrashScenario generates n days of statements: each day a full payment
// and a partial payment (both by RF reference), an unknown payer (an
// exception), a supplier debit (ignored), and every fourth day a payment
// whose invoice is created in the ledger two days later (an exception first,
// lettered from the suspense account later) — or never, near the end.
func newCrashScenario(n int) *crashScenario {
	sc := &crashScenario{Invoices: map[string]crashInvoice{}, Created: map[string]int{}}
	party := func(k int) string { return fmt.Sprintf("Crash Client %02d", k%7) }
	start := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	sc.Iterations = make([]crashIteration, n)
	for k := 0; k < n; k++ {
		f := crashInvoice{Label: fmt.Sprintf("F%03d", k), Party: party(k), Amount: cents(20000 + 1337*int64(k) + 11), RF: rfFor(fmt.Sprintf("CRF%04d", k))}
		p := crashInvoice{Label: fmt.Sprintf("P%03d", k), Party: party(k + 3), Amount: cents(100000 + 701*int64(k) + 50), RF: rfFor(fmt.Sprintf("CRP%04d", k))}
		sc.Upfront = append(sc.Upfront, f, p)
		sc.Invoices[f.Label], sc.Invoices[p.Label] = f, p
		it := &sc.Iterations[k]
		it.Date = start.AddDate(0, 0, k)
		day := it.Date.Format("060102")
		part := mustCents(p.Amount) * 2 / 5
		it.Txs = append(it.Txs,
			crashTx{Ref: "CR" + day + "F", Kind: "full", Payer: strings.ToUpper(f.Party), Amount: f.Amount, RF: f.RF, Invoice: f.Label},
			crashTx{Ref: "CR" + day + "P", Kind: "partial", Payer: strings.ToUpper(p.Party), Amount: cents(part), RF: p.RF, Invoice: p.Label},
			crashTx{Ref: "CR" + day + "U", Kind: "unknown", Payer: fmt.Sprintf("SCI INCONNUE %d", k), Amount: cents(900000 + 100*int64(k) + 37)},
			crashTx{Ref: "CR" + day + "D", Kind: "debit", Payer: "FOURNITURES BUREAU", Amount: "12.34"},
		)
		if k%4 == 1 {
			l := crashInvoice{Label: fmt.Sprintf("L%03d", k), Party: party(k + 5), Amount: cents(50000 + 1111*int64(k) + 3), RF: rfFor(fmt.Sprintf("CRL%04d", k))}
			sc.Invoices[l.Label] = l
			it.Txs = append(it.Txs, crashTx{Ref: "CR" + day + "L", Kind: "late", Payer: strings.ToUpper(l.Party), Amount: l.Amount, RF: l.RF, Invoice: l.Label})
			if k+2 < n {
				sc.Iterations[k+2].Invoices = append(sc.Iterations[k+2].Invoices, l)
				sc.Created[l.Label] = k + 2
			}
		}
	}
	return sc
}

// expected is what the ledger must hold at the end.
type crashExpected struct {
	Residual   map[string]int64 // invoice label → cents left to pay
	Lettered   map[string]int64 // tx ref → cents applied to invoices
	FromSusp   map[string]bool  // tx ref lettered after being on suspense
	Exceptions map[string]int64 // tx ref → unallocated cents
	Credits    int64            // every booked credit
}

func (sc *crashScenario) expected() crashExpected {
	e := crashExpected{Residual: map[string]int64{}, Lettered: map[string]int64{}, FromSusp: map[string]bool{}, Exceptions: map[string]int64{}}
	for label, inv := range sc.Invoices {
		if _, late := sc.Created[label]; late || label[0] != 'L' {
			e.Residual[label] = mustCents(inv.Amount)
		}
	}
	for _, it := range sc.Iterations {
		for _, tx := range it.Txs {
			amt := mustCents(tx.Amount)
			switch tx.Kind {
			case "debit":
				continue
			case "full", "partial":
				e.Lettered[tx.Ref] = amt
				e.Residual[tx.Invoice] -= amt
			case "late":
				if _, ok := sc.Created[tx.Invoice]; ok {
					e.Lettered[tx.Ref] = amt
					e.FromSusp[tx.Ref] = true
					e.Residual[tx.Invoice] -= amt
				} else {
					e.Exceptions[tx.Ref] = amt
				}
			case "unknown":
				e.Exceptions[tx.Ref] = amt
			}
			e.Credits += amt
		}
	}
	return e
}

const crashIBAN = "FR7630003012340005001234509"

// statementXML renders one day's camt.053.001.02 statement.
func statementXML(day int, it crashIteration) []byte {
	var b bytes.Buffer
	d := it.Date.Format(time.DateOnly)
	var credits, debits int64
	var nc, nd int
	for _, tx := range it.Txs {
		if tx.Kind == "debit" {
			debits += mustCents(tx.Amount)
			nd++
		} else {
			credits += mustCents(tx.Amount)
			nc++
		}
	}
	open := int64(5000000) + int64(day)*1000
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
<BkToCstmrStmt>
<GrpHdr><MsgId>CRASH%04d</MsgId><CreDtTm>%sT22:00:00+01:00</CreDtTm></GrpHdr>
<Stmt>
<Id>CRASH-%s</Id><ElctrncSeqNb>%d</ElctrncSeqNb><CreDtTm>%sT22:00:00+01:00</CreDtTm>
<Acct><Id><IBAN>%s</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>%s</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>%s</Dt></Dt></Bal>
<TxsSummry><TtlNtries><NbOfNtries>%d</NbOfNtries></TtlNtries>
<TtlCdtNtries><NbOfNtries>%d</NbOfNtries><Sum>%s</Sum></TtlCdtNtries>
<TtlDbtNtries><NbOfNtries>%d</NbOfNtries><Sum>%s</Sum></TtlDbtNtries></TxsSummry>
`, day, d, d, day+1, d, crashIBAN, cents(open), d, cents(open+credits-debits), d, nc+nd, nc, cents(credits), nd, cents(debits))
	for _, tx := range it.Txs {
		ind, party := "CRDT", "Dbtr"
		if tx.Kind == "debit" {
			ind, party = "DBIT", "Cdtr"
		}
		fmt.Fprintf(&b, `<Ntry><Amt Ccy="EUR">%s</Amt><CdtDbtInd>%s</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>%s</Dt></BookgDt><ValDt><Dt>%s</Dt></ValDt><AcctSvcrRef>%s</AcctSvcrRef>
<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
<NtryDtls><TxDtls><Refs><AcctSvcrRef>%sA</AcctSvcrRef><EndToEndId>E2E-%s</EndToEndId></Refs>
<AmtDtls><TxAmt><Amt Ccy="EUR">%s</Amt></TxAmt></AmtDtls>
<RltdPties><%s><Nm>%s</Nm></%s></RltdPties>
`, tx.Amount, ind, d, d, tx.Ref, tx.Ref, tx.Ref, tx.Amount, party, tx.Payer, party)
		switch {
		case tx.RF != "":
			fmt.Fprintf(&b, `<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>%s</Ref></CdtrRefInf></Strd></RmtInf>
`, tx.RF)
		case tx.Kind == "unknown":
			b.WriteString("<RmtInf><Ustrd>REMBOURSEMENT DEPOT DE GARANTIE</Ustrd></RmtInf>\n")
		default:
			b.WriteString("<RmtInf><Ustrd>FACTURE FOURNISSEUR 4471</Ustrd></RmtInf>\n")
		}
		b.WriteString("</TxDtls></NtryDtls></Ntry>\n")
	}
	b.WriteString("</Stmt>\n</BkToCstmrStmt>\n</Document>\n")
	return b.Bytes()
}

// crashLedger is one ledger under test.
type crashLedger interface {
	// block is the YAML of the job's ledger (indented for jobs[0]).
	block() string
	// stateBlock is the YAML of the state store.
	stateBlock(dir string) string
	addInvoices(t *testing.T, invs []crashInvoice)
	// failpoints are the connector's own, besides the pipeline's.
	failpoints() []string
	// verify checks the ledger against what is expected.
	verify(t *testing.T, sc *crashScenario, want crashExpected)
}

// crashStats is what a loop did, for the log and docs/CRASH.md.
type crashStats struct {
	Iterations, Runs, Kills, FailpointKills, RandomKills int
	ByPoint                                              map[string]int
	Elapsed                                              time.Duration
}

func (s crashStats) String() string {
	var pts []string
	for p, n := range s.ByPoint {
		pts = append(pts, fmt.Sprintf("%s=%d", p, n))
	}
	sort.Strings(pts)
	return fmt.Sprintf("%d iterations, %d runs, %d kills (%d at failpoints, %d after random delays; %s) in %v",
		s.Iterations, s.Runs, s.Kills, s.FailpointKills, s.RandomKills, strings.Join(pts, " "), s.Elapsed.Round(time.Second))
}

// crashIterations is the loop length: short in `make test`, long behind
// LETTRAGE_LONG_CRASH=1.
func crashIterations(t *testing.T, short int) (int, int64) {
	n, seed := short, int64(1)
	if os.Getenv("LETTRAGE_LONG_CRASH") == "1" {
		n = 100
		if v, err := strconv.Atoi(os.Getenv("LETTRAGE_CRASH_ITERATIONS")); err == nil && v > 0 {
			n = v
		}
	}
	if v, err := strconv.ParseInt(os.Getenv("LETTRAGE_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("crash loop: %d iterations, seed %d", n, seed)
	return n, seed
}

// runCrashLoop drives the scenario against led, killing lettrage along the
// way, then verifies the ledger.
func runCrashLoop(t *testing.T, led crashLedger, iterations int, seed int64) crashStats {
	t0 := time.Now()
	dir := t.TempDir()
	stmts := filepath.Join(dir, "statements")
	if err := os.MkdirAll(stmts, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "crash.yaml")
	yaml := fmt.Sprintf(`log: {level: warn, format: text}
http: {listen: ""}
%s
jobs:
  - name: crash
    schedule: "@every 1h"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml"}
    ledger:
%s
    reports: {dir: out, xlsx: false}
`, led.stateBlock(dir), led.block())
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := newCrashScenario(iterations)
	led.addInvoices(t, sc.Upfront)

	rng := rand.New(rand.NewSource(seed))
	points := append([]string{pipeline.FailAfterParse, pipeline.FailAfterCommit, pipeline.FailAfterApply,
		pipeline.FailAfterMark, pipeline.FailAfterReports}, led.failpoints()...)
	st := crashStats{Iterations: iterations, ByPoint: map[string]int{}}
	// Random kills land in [0, 1.1 × the last complete run's duration].
	lastClean := 800 * time.Millisecond
	for k, it := range sc.Iterations {
		if len(it.Invoices) > 0 {
			led.addInvoices(t, it.Invoices)
		}
		name := fmt.Sprintf("%s_camt053.xml", it.Date.Format(time.DateOnly))
		if err := os.WriteFile(filepath.Join(stmts, name), statementXML(k, it), 0o644); err != nil {
			t.Fatal(err)
		}
		for attempt := 0; ; attempt++ {
			var env []string
			var delay time.Duration
			point := ""
			switch {
			case attempt >= 5: // enough: this one must finish
			case attempt == 0 && k < len(points): // every failpoint once, first
				point = points[k]
				env = []string{pipeline.FailpointEnv + "=" + point}
			case attempt == 0 && rng.Intn(2) == 0, attempt > 0 && rng.Intn(8) == 0:
				point = points[rng.Intn(len(points))]
				env = []string{pipeline.FailpointEnv + "=" + point}
			case attempt == 0, rng.Intn(3) == 0:
				delay = time.Duration(rng.Int63n(int64(lastClean)*11/10 + 1))
			}
			started := time.Now()
			r := runKill(t, env, delay, "once", "-c", cfg)
			st.Runs++
			t.Logf("iteration %d run %d: failpoint %q delay %v → killed %v exit %d in %v", k, attempt, point,
				delay.Round(time.Millisecond), r.killed, r.code, time.Since(started).Round(time.Millisecond))
			if r.killed {
				st.Kills++
				if point != "" {
					st.FailpointKills++
					st.ByPoint[point]++
				} else {
					st.RandomKills++
				}
				continue
			}
			if r.code != 0 {
				t.Fatalf("iteration %d, run %d (failpoint %q, delay %v): exit %d\nstdout:\n%s\nstderr:\n%s",
					k, attempt, point, delay, r.code, r.stdout, r.stderr)
			}
			if point == "" {
				lastClean = time.Since(started)
			}
			break
		}
	}
	if iterations >= len(points) {
		for _, p := range points {
			if st.ByPoint[p] == 0 {
				t.Errorf("failpoint %s never killed the process", p)
			}
		}
	}
	// A last run must find nothing to do.
	r := runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "0 lettered") || !strings.Contains(r.stdout, "written back  0 decisions") {
		t.Errorf("final run: exit %d, want nothing to do:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	want := sc.expected()
	// The exceptions report (written for every ledger).
	got := map[string]bool{}
	for _, ref := range columns(t, readCSV(t, filepath.Join(dir, "out", "exceptions.csv")), "tx_ref") {
		got[strings.TrimSuffix(ref, "A")] = true
	}
	for ref := range want.Exceptions {
		if !got[ref] {
			t.Errorf("exceptions.csv lacks %s", ref)
		}
		delete(got, ref)
	}
	for ref := range got {
		t.Errorf("exceptions.csv has %s, which is not an exception", ref)
	}
	led.verify(t, sc, want)
	st.Elapsed = time.Since(t0)
	t.Logf("crash loop: %s", st)
	return st
}

// runKill runs the binary; a delay > 0 kills it (SIGKILL) after that long
// unless it finished first.
func runKill(t *testing.T, env []string, delay time.Duration, args ...string) result {
	t.Helper()
	if delay <= 0 {
		return runBin(t, env, args...)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			r.killed = true
		}
	default:
		t.Fatalf("running lettrage %v: %v", args, err)
	}
	return r
}
