package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
)

// One Odoo 17 server for the package's Odoo tests, started on first use
// and stopped by TestMain. The tests run side by side (t.Parallel), each on
// a database of its own, on Odoo's prefork server: odooWorkers processes,
// and the databases the selected tests will take copied and loaded before
// it forks them (each worker would load a new one on its first call, 3–8 s
// each).
var (
	odooOnce   sync.Once
	odooServer *testenv.Odoo
	odooErr    error
	odooDir    string
)

const odooWorkers = 4

// odooDatabases is how many databases each Odoo test takes.
var odooDatabases = map[string]int{"TestCrashLoopOdoo": 1, "TestCrashLoopOdooPayments": 1, "TestOdooStateLoss": 2, "TestOdooExample": 1, "TestIdlePassOdooLedger": 1}

// odooPreload is how many databases the Odoo tests that -run selects take
// (all of them when the pattern is not understood).
func odooPreload() int {
	n := 0
	if *odooServe != "" {
		n++ // TestOdooServe
	}
	var run string
	if f := flag.Lookup("test.run"); f != nil {
		run = f.Value.String()
	}
	top, _, _ := strings.Cut(run, "/")
	re, err := regexp.Compile(top)
	for name, k := range odooDatabases {
		if err != nil || re.MatchString(name) {
			n += k
		}
	}
	return n
}

func sharedOdoo(t *testing.T) *testenv.Odoo {
	t.Helper()
	odooOnce.Do(func() {
		odooDir, odooErr = os.MkdirTemp("", "lettrage-odoo-")
		if odooErr == nil {
			odooServer, odooErr = testenv.NewOdooWith(odooDir, testenv.OdooOptions{Workers: odooWorkers, Preload: odooPreload()})
		}
	})
	testenv.Need(t, "Odoo 17", odooErr)
	return odooServer
}

func stopSharedOdoo() {
	odooServer.Stop()
	if odooDir != "" {
		os.RemoveAll(odooDir)
	}
}

// odooJob writes a config whose job reads dir/statements and writes back
// to led, and returns its path.
func odooJob(t *testing.T, dir string, led *odooCrash) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "statements"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "odoo.yaml")
	yaml := fmt.Sprintf(`log: {level: warn, format: text}
http: {listen: ""}
%s
jobs:
  - name: odoo
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
	return cfg
}

// After the state store is lost, the statements are read again and their
// payments decided again against what Odoo now holds: Odoo is left as it
// was — nothing is paid, posted or put on a statement line twice, since
// every write is searched by its decision key (or its transaction's line)
// first — and a partial payment whose invoice still owes more than it is
// decided partial again, under the same key.
//
// What the state store alone knew is lost with it: a payment whose invoice
// it paid in full finds that invoice closed and is reported as an
// exception (no_candidate), and one that paid more than half of its
// invoice would be decided an overpayment of the rest. Telling those apart
// needs the pipeline to ask the ledger, before deciding a transaction it
// has never seen, whether its decision key is already written
// (docs/ODOO.md, "Losing the state store").
func TestOdooStateLoss(t *testing.T) {
	t.Parallel()
	for _, record := range []bool{true, false} {
		t.Run(fmt.Sprintf("record_exceptions=%v", record), func(t *testing.T) {
			t.Parallel()
			o := sharedOdoo(t)
			db := o.Database(t)
			led := &odooCrash{db: db, record: record, ids: map[string]int{}}
			dir := t.TempDir()
			cfg := odooJob(t, dir, led)
			sc := newCrashScenario(2)
			led.addInvoices(t, sc.Upfront)
			for k, it := range sc.Iterations {
				name := fmt.Sprintf("%s_camt053.xml", it.Date.Format("2006-01-02"))
				if err := os.WriteFile(filepath.Join(dir, "statements", name), statementXML(k, it), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r := runBin(t, nil, "once", "-c", cfg)
			if r.code != 0 {
				t.Fatalf("once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			before := readCSV(t, filepath.Join(dir, "out", "exceptions.csv"))
			if err := os.Remove(filepath.Join(dir, "out", "state.db")); err != nil {
				t.Fatal(err)
			}
			r = runBin(t, nil, "once", "-c", cfg)
			if r.code != 0 {
				t.Fatalf("once after losing the state: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			after := readCSV(t, filepath.Join(dir, "out", "exceptions.csv"))
			cols := []string{"tx_ref", "amount", "reason"}
			was := map[string]bool{}
			for _, e := range columns(t, before, cols...) {
				was[e] = true
			}
			for _, e := range columns(t, after, cols...) {
				if !was[e] && !strings.HasSuffix(e, ",no_candidate") {
					t.Errorf("new exception after losing the state: %s", e)
				}
				if !was[e] {
					t.Logf("reported as an exception after losing the state (its invoice is paid): %s", e)
				}
			}
			if strings.Contains(r.stdout+r.stderr, "overpayment") {
				t.Errorf("a payment was decided an overpayment after losing the state:\n%s\n%s", r.stdout, r.stderr)
			}
			led.verify(t, sc, sc.expected())
		})
	}
}
