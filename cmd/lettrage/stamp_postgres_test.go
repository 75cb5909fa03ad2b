package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/internal/testenv"
	"github.com/lettrage/lettrage/pipeline"
)

// TestIdlePassPostgresLedger: with the ERP in PostgreSQL (the example's
// open items in a table, customers in another, joined), once the passes
// have settled an idle pass leaves the open items unread (the ledger's
// stamp is the one recorded) and keeps the reports; after a change in
// either table the pass reads them, then idles again.
func TestIdlePassPostgresLedger(t *testing.T) { idlePassPostgres(t, false) }

// TestIdlePassPostgresExceptionsTable is TestIdlePassPostgresLedger with
// the ledger recording the exceptions (exceptions_table, an
// ExceptionSink): an idle pass leaves the items unread and the ERP's
// exceptions table as it was; a change has the pass record them again; and
// a sink write that failed (a trigger refusing it) or was interrupted (a
// crash before it) is done by the next pass, nothing else having changed.
func TestIdlePassPostgresExceptionsTable(t *testing.T) { idlePassPostgres(t, true) }

func idlePassPostgres(t *testing.T, sink bool) {
	pg := testenv.StartPostgres(t)
	erp := pg.Database(t)
	var sql strings.Builder
	sql.WriteString(`CREATE TABLE customers (id text PRIMARY KEY, name text NOT NULL, ibans text);
CREATE TABLE invoices (id text PRIMARY KEY, customer text NOT NULL REFERENCES customers, number text, issued date, due date,
	currency text NOT NULL, total numeric NOT NULL, residual numeric NOT NULL, ref text);
`)
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	sinkLine := ""
	if sink {
		sinkLine = "        exceptions_table: lettrage_exceptions\n"
	}
	// table is the ERP's exceptions table: every row with the time the
	// pass recorded it ("" without a sink).
	table := func() string {
		t.Helper()
		if !sink {
			return ""
		}
		if out, err := pg.Exec(erp, `SELECT to_regclass('lettrage_exceptions') IS NULL`); err != nil || out == "t" {
			return "no table yet " + out // the first pass creates it
		}
		out, err := pg.Exec(erp, `SELECT count(*) || E'\n' || coalesce(string_agg(tx_key || ' ' || outcome || ' ' || updated_at, E'\n' ORDER BY tx_key), '')
			FROM lettrage_exceptions`)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cfg := example(t, func(cfg string) string {
		cfg = strings.Replace(cfg, "level: warn", "level: info", 1)
		old := "      type: file\n      file:\n        open_items: open_items.csv\n        journal: out/matches.csv\n"
		if !strings.Contains(cfg, old) {
			t.Fatal("the example's ledger block moved")
		}
		return strings.Replace(cfg, old, fmt.Sprintf(`      type: postgres
      postgres:
        dsn: %q
        open_items_query: |
          SELECT i.id, i.customer AS customer_id, c.name AS customer_name, i.number AS document_number,
                 i.issued AS issue_date, i.due AS due_date, i.currency, i.total AS amount, i.residual,
                 i.ref AS payment_reference, c.ibans AS customer_iban
            FROM invoices i JOIN customers c ON c.id = i.customer WHERE i.residual <> 0
        apply_statement: |
          UPDATE invoices SET residual = residual - @item_amount::numeric - @write_off::numeric WHERE id = @item_id
`+sinkLine, erp), 1)
	})
	dir := filepath.Dir(cfg)
	rows := readCSV(t, filepath.Join(dir, "open_items.csv"))
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if !seen[r[1]] {
			seen[r[1]] = true
			fmt.Fprintf(&sql, "INSERT INTO customers VALUES (%s, %s, %s);\n", q(r[1]), q(r[2]), q(strings.ReplaceAll(r[10], "|", ",")))
		}
		fmt.Fprintf(&sql, "INSERT INTO invoices VALUES (%s, %s, %s, %s, NULLIF(%s, '')::date, %s, %s, %s, NULLIF(%s, ''));\n",
			q(r[0]), q(r[1]), q(r[3]), q(r[4]), q(r[5]), q(r[6]), r[7], r[8], q(r[9]))
	}
	if _, err := pg.Exec(erp, sql.String()); err != nil {
		t.Fatal(err)
	}
	const unread, read = "open items unchanged since they were last read: not read", `msg="open items loaded"`
	pass := func(step string) (itemsRead bool) {
		t.Helper()
		r := runBin(t, nil, "once", "-c", cfg)
		if r.code != 0 {
			t.Fatalf("%s: once exit %d: %s", step, r.code, r.stderr)
		}
		if strings.Contains(r.stderr, read) == strings.Contains(r.stderr, unread) && !strings.Contains(r.stderr, read) {
			t.Fatalf("%s: the log says neither that the items were read nor that they were not:\n%s", step, r.stderr)
		}
		return strings.Contains(r.stderr, read)
	}
	settle := func(step string) {
		t.Helper()
		recorded := table()
		if !pass(step) {
			t.Fatalf("%s: the open items were not read", step)
		}
		if sink && table() == recorded {
			t.Errorf("%s: the pass did not record the exceptions in the ERP's table", step)
		}
		for i := 0; pass(fmt.Sprintf("%s, pass %d after", step, i+1)); i++ {
			if i == 4 {
				t.Fatalf("%s: the passes read the items again and again", step)
			}
		}
		exc := filepath.Join(dir, "out", "exceptions.csv")
		before, err := os.ReadFile(exc)
		if err != nil {
			t.Fatal(err)
		}
		recorded = table()
		if pass(step + ", idle pass") {
			t.Errorf("%s: an idle pass read the open items", step)
		}
		if table() != recorded {
			t.Errorf("%s: an idle pass recorded the exceptions in the ERP's table again", step)
		}
		if after, _ := os.ReadFile(exc); string(after) != string(before) {
			t.Errorf("%s: an idle pass changed the exceptions", step)
		}
	}
	settle("first pass")
	for _, change := range []struct{ name, sql string }{
		{"an invoice partly paid in the ERP", `UPDATE invoices SET residual = residual - 1 WHERE id = (SELECT min(id) FROM invoices WHERE residual > 1)`},
		{"a customer renamed", `UPDATE customers SET name = name || ' (renamed)' WHERE id = (SELECT min(id) FROM customers)`},
		{"an invoice's payment reference set", `UPDATE invoices SET ref = 'RF18539007547034' WHERE id = (SELECT max(id) FROM invoices WHERE residual <> 0)`},
		{"a new invoice", `INSERT INTO invoices SELECT 'OI-NEW', customer, 'FA-NEW', issued, due, currency, 10, 10, NULL FROM invoices LIMIT 1`},
	} {
		if _, err := pg.Exec(erp, change.sql); err != nil {
			t.Fatal(err)
		}
		settle(change.name)
	}
	if !sink {
		return
	}
	exec := func(sql string) {
		t.Helper()
		if _, err := pg.Exec(erp, sql); err != nil {
			t.Fatal(err)
		}
	}
	// A sink write that fails: the pass fails, the table is as it was, and
	// the next pass, with nothing changed since, records the exceptions.
	exec(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON lettrage_exceptions FOR EACH ROW EXECUTE FUNCTION refuse();
UPDATE invoices SET residual = residual - 1 WHERE id = (SELECT max(id) FROM invoices WHERE residual > 1)`)
	before := table()
	if r := runBin(t, nil, "once", "-c", cfg); r.code == 0 {
		t.Fatalf("the pass whose sink write failed exited 0: %s", r.stderr)
	}
	if table() != before {
		t.Fatal("the failed sink write changed the ERP's table")
	}
	exec(`DROP TRIGGER refuse ON lettrage_exceptions`)
	settle("after a failed sink write")
	// A sink write interrupted (the process killed before it): the next
	// pass records the exceptions.
	exec(`UPDATE invoices SET residual = residual - 1 WHERE id = (SELECT min(id) FROM invoices WHERE residual > 1)`)
	before = table()
	if r := runBin(t, []string{pipeline.FailpointEnv + "=" + pipeline.FailBeforeSink}, "once", "-c", cfg); !r.killed {
		t.Fatalf("the failpoint %s was not reached (exit %d): %s", pipeline.FailBeforeSink, r.code, r.stderr)
	}
	if table() != before {
		t.Fatal("the interrupted pass changed the ERP's table")
	}
	settle("after an interrupted sink write")
}
