package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/connectors/ledger/postgres"
	"github.com/lettrage/lettrage/internal/testenv"
)

// TestCrashLoopPostgres: see crash_ledgers_test.go. The ERP lives in
// PostgreSQL (invoices, payments); the state store is PostgreSQL too.
func TestCrashLoopPostgres(t *testing.T) {
	n, seed := crashIterations(t, 25)
	pg := testenv.StartPostgres(t)
	erp, err := pg.CreateDatabase("crash_erp")
	if err != nil {
		t.Fatal(err)
	}
	state, err := pg.CreateDatabase("crash_state")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Exec(erp, crashERPSchema); err != nil {
		t.Fatal(err)
	}
	runCrashLoop(t, &pgCrash{pg: pg, erp: erp, state: state, ids: map[string]int{}}, n, seed)
}

const crashERPSchema = `
CREATE TABLE customers (id serial PRIMARY KEY, name text UNIQUE NOT NULL);
CREATE TABLE invoices (
	id serial PRIMARY KEY, label text UNIQUE NOT NULL, customer int NOT NULL REFERENCES customers,
	number text NOT NULL, issued date NOT NULL, currency char(3) NOT NULL,
	total numeric(14,2) NOT NULL, residual numeric(14,2) NOT NULL CHECK (residual >= 0), ref text);
CREATE TABLE payments (id serial PRIMARY KEY, decision text NOT NULL, invoice int NOT NULL REFERENCES invoices,
	amount numeric(14,2) NOT NULL, booked date, bank_ref text NOT NULL);
`

type pgCrash struct {
	pg         *testenv.Postgres
	erp, state string
	ids        map[string]int
}

func (l *pgCrash) block() string {
	return fmt.Sprintf(`      type: postgres
      postgres:
        dsn: %q
        open_items_query: |
          SELECT i.id, i.customer AS customer_id, c.name AS customer_name, i.number AS document_number,
                 i.issued AS issue_date, i.currency, i.total AS amount, i.residual, i.ref AS payment_reference
            FROM invoices i JOIN customers c ON c.id = i.customer WHERE i.residual > 0
        apply_statement: |
          WITH p AS (INSERT INTO payments (decision, invoice, amount, booked, bank_ref)
                     VALUES (@decision_key, @item_id::int, @amount::numeric, @booking_date::date, @tx_ref))
          UPDATE invoices SET residual = residual - @amount::numeric - @write_off::numeric WHERE id = @item_id::int
        exceptions_table: lettrage_exceptions`, l.erp)
}

func (l *pgCrash) stateBlock(string) string {
	return fmt.Sprintf("state: {driver: postgres, postgres: {dsn: %q}}", l.state)
}

func (l *pgCrash) addInvoices(t *testing.T, invs []crashInvoice) {
	t.Helper()
	var b strings.Builder
	for _, inv := range invs {
		fmt.Fprintf(&b, `INSERT INTO customers (name) VALUES ('%s') ON CONFLICT DO NOTHING;
INSERT INTO invoices (label, customer, number, issued, currency, total, residual, ref)
  SELECT '%s', id, 'INV-%s', '2026-01-15', 'EUR', %s, %s, '%s' FROM customers WHERE name = '%s';
`, inv.Party, inv.Label, inv.Label, inv.Amount, inv.Amount, inv.RF, inv.Party)
	}
	if _, err := l.pg.Exec(l.erp, b.String()); err != nil {
		t.Fatalf("adding invoices: %v", err)
	}
}

func (l *pgCrash) failpoints() []string { return []string{postgres.FailBeforeCommit} }

// rows runs a query whose rows are "a|b|…" and returns them split.
func (l *pgCrash) rows(t *testing.T, sql string) [][]string {
	t.Helper()
	out, err := l.pg.Exec(l.erp, sql)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(out, "\n") {
		if line != "" {
			rows = append(rows, strings.Split(line, "|"))
		}
	}
	return rows
}

func (l *pgCrash) verify(t *testing.T, sc *crashScenario, want crashExpected) {
	t.Helper()
	// 1. Residuals, and payments that explain them exactly.
	got := map[string]int64{}
	for _, r := range l.rows(t, `SELECT i.label, i.residual, i.total - COALESCE((SELECT sum(amount) FROM payments p WHERE p.invoice = i.id), 0)
		FROM invoices i ORDER BY i.label`) {
		got[r[0]] = mustCents(r[1])
		if r[1] != r[2] {
			t.Errorf("invoice %s: residual %s but total − payments = %s", r[0], r[1], r[2])
		}
	}
	labels := make([]string, 0, len(want.Residual))
	for label := range want.Residual {
		labels = append(labels, label)
	}
	sort.Strings(labels)
	for _, label := range labels {
		if g, ok := got[label]; !ok || g != want.Residual[label] {
			t.Errorf("invoice %s: residual %s, want %s", label, cents(g), cents(want.Residual[label]))
		}
		delete(got, label)
	}
	for label := range got {
		t.Errorf("invoice %s in the ERP but not in the scenario", label)
	}
	// 2. Each payment once: one allocation row, one ERP payment.
	alloc := map[string]int64{}
	for _, r := range l.rows(t, `SELECT tx_ref, sum(amount), count(*), count(DISTINCT decision_key) FROM lettrage_allocations GROUP BY tx_ref`) {
		ref := strings.TrimSuffix(r[0], "A")
		alloc[ref] = mustCents(r[1])
		if r[2] != "1" || r[3] != "1" {
			t.Errorf("payment %s: %s allocation rows under %s keys, want 1", ref, r[2], r[3])
		}
	}
	pays := map[string]string{}
	for _, r := range l.rows(t, `SELECT bank_ref, count(*) FROM payments GROUP BY bank_ref`) {
		pays[strings.TrimSuffix(r[0], "A")] = r[1]
	}
	for ref, amt := range want.Lettered {
		if alloc[ref] != amt || pays[ref] != "1" {
			t.Errorf("payment %s: allocated %s with %s ERP payments, want %s once", ref, cents(alloc[ref]), pays[ref], cents(amt))
		}
		delete(alloc, ref)
		delete(pays, ref)
	}
	for ref := range alloc {
		t.Errorf("payment %s allocated but should not be", ref)
	}
	for ref, n := range pays {
		t.Errorf("payment %s paid %s times in the ERP but should not be", ref, n)
	}
	// 3. The exceptions table holds exactly the exceptions.
	exc := map[string]int64{}
	for _, r := range l.rows(t, `SELECT tx_ref, amount FROM lettrage_exceptions`) {
		exc[strings.TrimSuffix(r[0], "A")] = mustCents(r[1])
	}
	for ref, amt := range want.Exceptions {
		if exc[ref] != amt {
			t.Errorf("exceptions table: %s = %s, want %s", ref, cents(exc[ref]), cents(amt))
		}
		delete(exc, ref)
	}
	for ref := range exc {
		t.Errorf("exceptions table holds %s, which is no exception", ref)
	}
	n, _ := strconv.Atoi(l.rows(t, `SELECT count(*) FROM payments`)[0][0])
	t.Logf("postgres: %d invoices, %d payments checked", len(want.Residual), n)
}
