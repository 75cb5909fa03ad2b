package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lettrage/lettrage/internal/testenv"
)

// TestIdlePassTrytonLedger: with the Tryton ledger (a sink of exceptions:
// suspense_account), a pass after a recent write to what the open items
// are read from reads them (no stamp within the quiet hour); once nothing
// was written for an hour — create and write dates moved back in the
// database, as time would — a pass records the stamp and the next leaves
// the items unread; an invoice posted or a customer renamed in Tryton
// makes the next pass read them again.
func TestIdlePassTrytonLedger(t *testing.T) {
	t.Parallel()
	tr := testenv.StartTryton(t)
	s, err := tr.Seed(2026, nil)
	if err != nil {
		t.Fatalf("seeding Tryton: %v\n%s", err, tr.LogTail())
	}
	led := &trytonCrash{tr: tr, seed: s}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "statements"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "tryton.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`log: {level: info, format: text}
http: {listen: ""}
%s
jobs:
  - name: tryton
    schedule: "@every 1h"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml"}
    ledger:
%s
    reports: {dir: out, xlsx: false}
`, led.stateBlock(dir), led.block())), 0o644); err != nil {
		t.Fatal(err)
	}
	led.addInvoices(t, []crashInvoice{{Label: "A", Party: "Idle Alpha", Amount: "100.00", RF: "RF18539007547034"},
		{Label: "B", Party: "Idle Beta", Amount: "250.00", RF: "RF71INVB"}})
	const unread, read = "open items unchanged since they were last read: not read", `msg="open items loaded"`
	pass := func(step string, wantRead bool) {
		t.Helper()
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 0 {
			t.Fatalf("%s: once exit %d: %s", step, r.code, r.stderr)
		}
		gotRead, gotUnread := strings.Contains(r.stderr, read), strings.Contains(r.stderr, unread)
		if gotRead == gotUnread {
			t.Fatalf("%s: read %v, unread %v in the log:\n%s", step, gotRead, gotUnread, r.stderr)
		}
		if gotRead != wantRead {
			t.Errorf("%s: open items read %v, want %v", step, gotRead, wantRead)
		}
	}
	pass("first pass, invoices just posted", true)
	pass("nothing written for less than an hour", true)
	trytonQuiet(t, tr)
	pass("quiet for an hour: the stamp recorded", true)
	pass("idle pass", false)
	pass("idle pass again", false)
	led.addInvoices(t, []crashInvoice{{Label: "C", Party: "Idle Alpha", Amount: "30.00"}})
	pass("an invoice just posted in Tryton", true)
	trytonQuiet(t, tr)
	pass("an invoice posted in Tryton, an hour ago", true)
	pass("idle after the invoice", false)
	if err := tr.Call(nil, "model.party.party.write", []int{s.Parties["Idle Beta"]}, map[string]any{"name": "Idle Beta renamed"}); err != nil {
		t.Fatal(err)
	}
	trytonQuiet(t, tr)
	pass("a customer renamed an hour ago", true)
	pass("idle after the rename", false)
	if _, err := os.Stat(filepath.Join(dir, "out", "exceptions.csv")); err != nil {
		t.Error(err)
	}
}

// trytonQuiet moves the create and write dates of the last two hours back
// by two hours in the tables the Tryton ledger's stamp reads, as an hour
// without writes would. Tryton's SQLite holds them as text,
// "2026-12-08 01:02:03.456789", in the server's clock.
func trytonQuiet(t *testing.T, tr *testenv.Tryton) {
	t.Helper()
	const script = `
import datetime, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def back(s):
    return (datetime.datetime.fromisoformat(s) - datetime.timedelta(hours=2)).isoformat(' ')
db.create_function('back', 1, back)
cut = (datetime.datetime.now() - datetime.timedelta(hours=2)).isoformat(' ')
for table in ('account_invoice', 'account_move_line', 'account_move_reconciliation', 'party_party',
              'currency_currency', 'currency_currency_rate'):
    for col in ('create_date', 'write_date'):
        db.execute('UPDATE %s SET %s = back(%s) WHERE %s > ?' % (table, col, col, col), (cut,))
db.commit()
`
	out, err := exec.Command("python3", "-c", script, filepath.Join(tr.Dir, tr.Database+".sqlite")).CombinedOutput()
	if err != nil {
		t.Fatalf("moving Tryton's dates back: %v\n%s", err, out)
	}
}

// TestIdlePassTrytonBench measures idle passes on a Tryton ledger of many
// open invoices, for docs/BENCHMARKS.md ("Round seven"); skipped unless
// LETTRAGE_TRYTON_IDLE_BENCH names the number of invoices and
// LETTRAGE_TRYTON_IDLE_BINS the binaries to compare (space-separated).
// Each binary has its own state; the passes are interleaved (A B A B A B)
// and each one's RPC calls counted by a proxy in front of Tryton:
//
//	LETTRAGE_TRYTON_IDLE_BENCH=5000 LETTRAGE_TRYTON_IDLE_BINS="/tmp/s10/lettrage-main /tmp/x/lettrage" \
//	  go test -tags failpoint -count=1 -run TestIdlePassTrytonBench -v -timeout 30m ./cmd/lettrage/
func TestIdlePassTrytonBench(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("LETTRAGE_TRYTON_IDLE_BENCH"))
	bins := strings.Fields(os.Getenv("LETTRAGE_TRYTON_IDLE_BINS"))
	if n <= 0 || len(bins) == 0 {
		t.Skip("LETTRAGE_TRYTON_IDLE_BENCH and LETTRAGE_TRYTON_IDLE_BINS not set")
	}
	tr := testenv.StartTryton(t)
	s, err := tr.Seed(2026, nil)
	if err != nil {
		t.Fatalf("seeding Tryton: %v\n%s", err, tr.LogTail())
	}
	t0 := time.Now()
	benchInvoices(t, tr, s, n)
	t.Logf("%d invoices created and posted in %v", n, time.Since(t0).Round(time.Second))
	trytonQuiet(t, tr)

	var calls atomic.Int64
	target, err := url.Parse(tr.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	counted := *tr
	counted.URL = proxy.URL
	led := &trytonCrash{tr: &counted, seed: s}
	cfgs := make([]string, len(bins))
	for i := range bins {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		if err := os.MkdirAll(filepath.Join(dir, "statements"), 0o755); err != nil {
			t.Fatal(err)
		}
		cfgs[i] = filepath.Join(dir, "tryton.yaml")
		if err := os.WriteFile(cfgs[i], []byte(fmt.Sprintf(`log: {level: info, format: text}
http: {listen: ""}
state: {driver: sqlite, sqlite: {path: %s}}
jobs:
  - name: tryton
    schedule: "@every 1h"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml"}
    ledger:
%s
    reports: {dir: out, xlsx: false}
`, filepath.Join(dir, "state.db"), led.block())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pid, err := os.ReadFile(filepath.Join(tr.Dir, "trytond.pid"))
	if err != nil {
		t.Fatal(err)
	}
	// serverCPU is trytond's user+sys CPU so far, in clock ticks (1/100 s).
	serverCPU := func() int {
		t.Helper()
		stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pid)), "stat"))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
		u, _ := strconv.Atoi(f[11]) // utime, field 14
		s, _ := strconv.Atoi(f[12]) // stime, field 15
		return u + s
	}
	run := func(i int) string {
		t.Helper()
		timeFile := filepath.Join(t.TempDir(), "time")
		calls.Store(0)
		cpu0 := serverCPU()
		cmd := exec.Command("/usr/bin/time", "-v", "-o", timeFile, bins[i], "once", "-c", cfgs[i])
		cmd.Dir = filepath.Dir(cfgs[i])
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", bins[i], err, out)
		}
		tf, err := os.ReadFile(timeFile)
		if err != nil {
			t.Fatal(err)
		}
		var user, sys, wall, rss string
		for _, l := range strings.Split(string(tf), "\n") {
			l = strings.TrimSpace(l)
			k, v, _ := strings.Cut(l, ": ")
			switch k {
			case "User time (seconds)":
				user = v
			case "System time (seconds)":
				sys = v
			case "Elapsed (wall clock) time (h:mm:ss or m:ss)":
				wall = v
			case "Maximum resident set size (kbytes)":
				rss = v
			}
		}
		read := strings.Contains(string(out), `msg="open items loaded"`)
		return fmt.Sprintf("user %s sys %s wall %s maxrss %s kB, %d RPC calls, Tryton CPU %.2f s, items read %v",
			user, sys, wall, rss, calls.Load(), float64(serverCPU()-cpu0)/100, read)
	}
	for i := range bins {
		t.Logf("first pass %s: %s", bins[i], run(i))
	}
	for round := 0; round < 3; round++ {
		for i := range bins {
			t.Logf("idle pass %d %s: %s", round+1, bins[i], run(i))
		}
	}
}

// benchInvoices creates n customer invoices over n/10 parties, 500 a
// call, and posts them.
func benchInvoices(t *testing.T, tr *testenv.Tryton, s *testenv.TrytonSeed, n int) {
	t.Helper()
	parties := make([]map[string]any, (n+9)/10)
	for i := range parties {
		parties[i] = map[string]any{"name": fmt.Sprintf("Bench party %d", i), "addresses": []any{[]any{"create", []map[string]any{{}}}}}
	}
	var pids []int
	if err := tr.Call(&pids, "model.party.party.create", parties); err != nil {
		t.Fatal(err)
	}
	var addr []struct {
		ID        int   `json:"id"`
		Addresses []int `json:"addresses"`
	}
	if err := tr.Call(&addr, "model.party.party.read", pids, []string{"addresses"}); err != nil {
		t.Fatal(err)
	}
	date := testenv.TrytonDate(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	for lo := 0; lo < n; lo += 500 {
		var batch []map[string]any
		for i := lo; i < n && i < lo+500; i++ {
			p := addr[i/10]
			batch = append(batch, map[string]any{
				"type": "out", "party": p.ID, "invoice_address": p.Addresses[0], "journal": s.RevenueJournal,
				"account": s.Receivable, "currency": s.Currency, "company": s.Company, "invoice_date": date,
				"reference": fmt.Sprintf("BENCH-%d", i),
				"lines": []any{[]any{"create", []map[string]any{{"type": "line", "quantity": 1.0,
					"unit_price": testenv.TrytonDecimal(fmt.Sprintf("%d.%02d", 10+i%990, i%100)), "description": "Services", "account": s.Revenue}}}},
			})
		}
		var ids []int
		if err := tr.Call(&ids, "model.account.invoice.create", batch); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(ids); i += 10 { // posting takes up to 1 s an invoice under load: within the 60 s timeout
			if err := tr.Call(nil, "model.account.invoice.post", ids[i:min(i+10, len(ids))]); err != nil {
				t.Fatal(err)
			}
		}
	}
}
