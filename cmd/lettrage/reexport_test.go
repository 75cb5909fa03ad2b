package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// reexport writes the example's open items as the ERP exports them again,
// stamped as_of: when imported is true, the residuals already reduced by
// the journal's allocations (items settled left out), else as they were.
func reexport(t *testing.T, dir string, asOf time.Time, imported bool) (items int, open domain.Amount) {
	t.Helper()
	rows := readCSV(t, filepath.Join(dir, "open_items.csv"))
	used := map[string]domain.Amount{}
	if imported {
		m := readCSV(t, filepath.Join(dir, "out", "matches.csv"))
		col := map[string]int{}
		for i, h := range m[0] {
			col[h] = i
		}
		for _, r := range m[1:] {
			if r[col["posting_kind"]] != "" {
				continue
			}
			a := domain.MustAmount(r[col["allocated_amount"]]).Add(domain.MustAmount(r[col["writeoff_amount"]]))
			used[r[col["open_item_id"]]] = used[r[col["open_item_id"]]].Add(a)
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(rows[0], ",") + ",as_of\n")
	for _, r := range rows[1:] {
		res := domain.MustAmount(r[8]).Sub(used[r[0]])
		if res.IsZero() {
			continue
		}
		r[8] = res.String()
		for i, v := range r {
			if strings.ContainsAny(v, ",\"") {
				r[i] = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			}
		}
		b.WriteString(strings.Join(r, ",") + "," + asOf.UTC().Format(time.RFC3339) + "\n")
		items++
		if r[6] == "EUR" {
			open = open.Add(res)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "open_items.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return items, open
}

var probeLine = regexp.MustCompile(`file ledger\s+(\d+) open item\(s\) of \d+ customer\(s\), open .*?([0-9.]+) EUR`)

// TestReexportAfterImport is issue 16's scenario: `once`, then the ERP
// imports the journal and exports the open items again (residuals already
// reduced). `check --connect` then shows what the export holds — nothing
// subtracted twice, no invoice vanishing — and says which rule applied;
// an export from before the import still has the journal subtracted, and
// a new payment still letters against the re-export.
func TestReexportAfterImport(t *testing.T) {
	cfg := example(t, nil)
	dir := filepath.Dir(cfg)
	before := time.Now().Add(-time.Hour)
	if r := runBin(t, nil, "once", "-c", cfg); r.code != 0 {
		t.Fatalf("once exit %d: %s", r.code, r.stderr)
	}
	original, _ := os.ReadFile(filepath.Join(dir, "open_items.csv"))

	// The export taken before the import (as of an hour ago): the journal's
	// rows are subtracted, and the pass says the export is older.
	reexport(t, dir, before, false)
	r := runBin(t, nil, "check", "--connect", "-c", cfg)
	m := probeLine.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("check exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "journal rows subtracted: 13") || !strings.Contains(r.stdout, "older than the journal's last write") {
		t.Errorf("the pass does not say what it subtracted from an older export:\n%s", r.stdout)
	}
	beforeItems, beforeOpen := m[1], m[2]

	// The export taken after the import: residuals reduced by the ERP.
	if err := os.WriteFile(filepath.Join(dir, "open_items.csv"), original, 0o644); err != nil {
		t.Fatal(err)
	}
	wantItems, wantOpen := reexport(t, dir, time.Now().Add(time.Second), true)
	time.Sleep(1100 * time.Millisecond) // the as_of is past: trusted
	r = runBin(t, nil, "check", "--connect", "-c", cfg)
	m = probeLine.FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("check exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if m[1] != itoa(wantItems) || domain.MustAmount(m[2]).Cmp(wantOpen) != 0 {
		t.Errorf("after the re-export: %s items, %s EUR open; the export holds %d and %s", m[1], m[2], wantItems, wantOpen)
	}
	if m[1] != beforeItems || m[2] != beforeOpen {
		t.Errorf("the two kinds of export disagree: before the import %s items / %s EUR, after %s / %s",
			beforeItems, beforeOpen, m[1], m[2])
	}
	if !strings.Contains(r.stdout, "journal rows subtracted: 0") || !strings.Contains(r.stdout, "already reflected: 2") ||
		strings.Contains(r.stdout, "ANNOUNCED") {
		t.Errorf("the pass does not say the export reflects the journal:\n%s", r.stdout)
	}

	// A payment of an invoice still open letters against the re-export,
	// and what it letters is subtracted from then on.
	if err := os.WriteFile(filepath.Join(dir, "statements", "2026-11-20.xml"), []byte(oneCredit("STMT-RE", "SGFR2611209901A",
		"Ferramenta Rossi S.r.l.", "IT47R0306909606100000061538", "1733.20", "FA-2026-00104")), 0o644); err != nil {
		t.Fatal(err)
	}
	r = runBin(t, nil, "once", "-c", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "1 lettered") {
		t.Fatalf("once on the re-export: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := autoRows(t, filepath.Join(dir, "out", "matches.csv")); !contains(got, "SGFR2611209901A,OI-1004,1733.2") {
		t.Errorf("the payment was not lettered: %q", got)
	}
	r = runBin(t, nil, "check", "--connect", "-c", cfg)
	if m := probeLine.FindStringSubmatch(r.stdout); m == nil || m[1] != itoa(wantItems-1) ||
		!strings.Contains(r.stdout, "journal rows subtracted: 1 (1733.20 EUR)") {
		t.Errorf("after a letter on the re-export:\n%s", r.stdout)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
