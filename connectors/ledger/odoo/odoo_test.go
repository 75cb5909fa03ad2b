package odoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// Every test here runs against a real Odoo 17.0 Community (account,
// l10n_fr) started by internal/testenv. Tests run side by side, each on a
// database of its own while it runs: the package's server runs Odoo's
// prefork server (odooWorkers processes) with odooDatabases databases
// copied from the template and loaded before it forks; a test borrows one
// (newFx) and gives it back when it ends, so two tests never number
// entries of one journal at once (Odoo would clash, see
// TestDatabaseErrorIsNotARefusal, and change the call counts the tests
// check). A test leaves its database as it found it for the next one
// (lock date, user groups); everything else it creates carries its own id:
// customers, invoices, decision and transaction keys. The connector logs
// in as the user "lettrage" with its API key, through a proxy
// (proxy_test.go) that counts the calls and injects the transport faults a
// real server cannot be made to produce.
var (
	server    *testenv.Odoo
	databases chan *testenv.OdooDB
	serverErr error
)

// odooDatabases tests run at once, served by odooWorkers Odoo processes,
// one each (with 2, a call waited behind another test's: common.version
// took 0.5 s on average). A test spends its time waiting for Odoo's
// answers, so more tests than cores pays even on 2 (docs/ODOO.md, Tests).
const (
	odooDatabases = 4
	odooWorkers   = 4
)

func TestMain(m *testing.M) {
	flag.Parse()
	// go test runs GOMAXPROCS tests at once unless told (-parallel):
	// these wait on Odoo, so run as many as there are databases.
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(odooDatabases))
	}
	code := func() int {
		dir, err := os.MkdirTemp("", "lettrage-odoo-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		t0 := time.Now()
		server, serverErr = testenv.NewOdooWith(dir, testenv.OdooOptions{Workers: odooWorkers, Preload: odooDatabases})
		defer server.Stop()
		if serverErr == nil {
			t1 := time.Now()
			// The first call to each database costs seconds: all at once.
			databases = make(chan *testenv.OdooDB, odooDatabases)
			errs := make(chan error, odooDatabases)
			for i := 0; i < odooDatabases; i++ {
				go func() {
					db, err := server.NewDatabase("connector")
					if err == nil {
						databases <- db
					}
					errs <- err
				}()
			}
			for i := 0; i < odooDatabases; i++ {
				if err := <-errs; err != nil && serverErr == nil {
					serverErr = err
				}
			}
			if testing.Verbose() {
				fmt.Printf("odoo %s: %d databases copied and loaded, server started in %v, logged in in %v\n", server.Version,
					odooDatabases, t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
			}
		}
		code := m.Run()
		if os.Getenv("ODOO_STATS") != "" {
			var total time.Duration
			for k, d := range proxyStats.d {
				total += d
				fmt.Printf("%-60s %4d %v\n", k, proxyStats.n[k], d.Round(time.Millisecond))
			}
			fmt.Println("total", total)
		}
		return code
	}()
	os.Exit(code)
}

// fx is one test's corner of the database it borrowed.
type fx struct {
	t     *testing.T
	id    string // short hash of the test name, in every key and name
	px    *proxy
	db    *testenv.OdooDB
	names map[int]string // partner id → short name
}

// newFx starts a test: it runs in parallel with the others (t.Parallel),
// on a database it has to itself until it ends.
func newFx(t *testing.T) *fx {
	t.Helper()
	testenv.Need(t, "Odoo 17", serverErr)
	t.Parallel()
	db := <-databases
	// Registered first, so run last: after the test's own cleanups
	// (lock date, groups) have restored the database.
	t.Cleanup(func() { databases <- db })
	return fixture(t, db)
}

// runID tells apart the runs of one test in one database (-count=N).
var runID atomic.Int64

func fixture(t *testing.T, db *testenv.OdooDB) *fx {
	t.Helper()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d\x00%d", t.Name(), os.Getpid(), runID.Add(1))))
	return &fx{t: t, id: hex.EncodeToString(sum[:4]), px: newProxy(t, server.URL), db: db, names: map[int]string{}}
}

// key makes a decision or transaction key unique to the test.
func (f *fx) key(s string) string { return s + "-" + f.id }

// partner is the test's customer short (created with ibans when new).
func (f *fx) partner(short string, ibans ...string) int {
	f.t.Helper()
	id, err := f.db.Partner(short+" "+f.id, ibans...)
	if err != nil {
		f.t.Fatal(err)
	}
	f.names[id] = short
	return id
}

// pid is the partner id as a customer id.
func (f *fx) pid(short string) string { return strconv.Itoa(f.partner(short)) }

// invoices creates the test's invoices (partners by short name) and
// returns their ids as item ids.
func (f *fx) invoices(specs ...testenv.OdooInvoice) []string {
	f.t.Helper()
	shorts := make([]string, len(specs))
	for i := range specs {
		shorts[i] = specs[i].Partner
		specs[i].Partner += " " + f.id
	}
	ids, err := f.db.Invoices(specs...)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, s := range shorts {
		f.partner(s) // known now: no call
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
	}
	return out
}

// inv is a posted invoice of amount for the customer short.
func inv(short, amount string) testenv.OdooInvoice {
	return testenv.OdooInvoice{Partner: short, Amount: amount}
}

func (f *fx) client(mut func(*Config)) *Client {
	f.t.Helper()
	cfg := Config{URL: f.px.srv.URL, Database: f.db.Name, User: testenv.OdooUser, APIKey: server.APIKey, PageSize: 2}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return c
}

// call runs a method as Odoo's admin.
func (f *fx) call(out any, model, method string, args []any, kwargs map[string]any) {
	f.t.Helper()
	if err := f.db.Call(out, model, method, args, kwargs); err != nil {
		f.t.Fatal(err)
	}
}

// lock sets the lock date for the test (removed at its end).
func (f *fx) lock(date string) {
	f.t.Helper()
	if err := f.db.SetLockDate(date); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		if err := f.db.SetLockDate(""); err != nil {
			f.t.Error(err)
		}
	})
}

// amt formats an Odoo float read as a Number with 2 digits.
func amt(t *testing.T, n Number) string {
	t.Helper()
	a, err := n.Amount(2)
	if err != nil {
		t.Fatal(err)
	}
	return a.Key()
}

// states reads invoices from Odoo: "paid/0 partial/200.05".
func (f *fx) states(ids ...string) string {
	f.t.Helper()
	var out []string
	for _, id := range ids {
		n, _ := strconv.Atoi(id)
		var rows []struct {
			State    string `json:"payment_state"`
			Residual Number `json:"amount_residual"`
		}
		f.call(&rows, "account.move", "read", []any{[]int{n}}, map[string]any{"fields": []string{"payment_state", "amount_residual"}})
		out = append(out, rows[0].State+"/"+amt(f.t, rows[0].Residual))
	}
	return strings.Join(out, " ")
}

type payment struct {
	ID       int      `json:"id"`
	Memo     Text     `json:"ref"`
	Amount   Number   `json:"amount"`
	State    string   `json:"state"`
	Partner  Many2one `json:"partner_id"`
	Journal  Many2one `json:"journal_id"`
	Date     string   `json:"date"`
	Invoices []int    `json:"reconciled_invoice_ids"`
	Move     Many2one `json:"move_id"`
	Type     string   `json:"payment_type"`
}

// payments reads the payments of the test's customers, oldest first.
func (f *fx) payments() []payment {
	f.t.Helper()
	var ids []int
	for id := range f.names {
		ids = append(ids, id)
	}
	var rows []payment
	f.call(&rows, "account.payment", "search_read", []any{[]any{[]any{"partner_id", "in", ids}}},
		map[string]any{"fields": []string{"ref", "amount", "state", "partner_id", "journal_id", "date", "reconciled_invoice_ids",
			"move_id", "payment_type"}, "order": "id asc"})
	return rows
}

// memos describes Lettrage's payments (memo "lettrage:…"):
// "memo=amount@invoices:state".
func (f *fx) memos() string {
	f.t.Helper()
	var out []string
	for _, p := range f.payments() {
		if !strings.HasPrefix(string(p.Memo), memoPrefix) {
			continue
		}
		var invs []string
		for _, i := range p.Invoices {
			invs = append(invs, strconv.Itoa(i))
		}
		out = append(out, fmt.Sprintf("%s=%s@%s:%s", p.Memo, amt(f.t, p.Amount), strings.Join(invs, "+"), p.State))
	}
	return strings.Join(out, " ")
}

// memo is what memos shows for a payment.
func pay(memo, amount, invoice, state string) string {
	return fmt.Sprintf("%s=%s@%s:%s", memo, amount, invoice, state)
}

func (f *fx) kd(key string, allocs ...domain.Allocation) connectors.KeyedDecision {
	return connectors.KeyedDecision{
		Key: f.key(key),
		Tx: domain.Transaction{Key: f.key("tx-" + key), Ref: "REF-" + key, Currency: "EUR", Credit: true, Status: "BOOK",
			BookingDate: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Decision:  domain.Decision{Outcome: domain.Auto, Rule: "reference", Confidence: 1, Allocations: allocs},
		DecidedAt: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
	}
}

func al(item, amount, writeOff string) domain.Allocation {
	a := domain.Allocation{ItemID: item, Amount: domain.MustAmount(amount)}
	if writeOff != "" {
		a.WriteOff = domain.MustAmount(writeOff)
	}
	return a
}

// Open items: posted invoices and credit notes not (fully) paid, a page at
// a time, with the customers' bank accounts, in their own currency; paid,
// draft and cancelled invoices are not open.
func TestOpenItems(t *testing.T) {
	f := newFx(t)
	f.partner("Dupont SARL", "FR76 3000 6000 0112 3456 7890 189")
	f.partner("Müller GmbH", "DE89370400440532013000")
	f.partner("Rossi Srl")
	oct1 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	ids := f.invoices(
		testenv.OdooInvoice{Partner: "Dupont SARL", Amount: "1250.00", Reference: "RF18539007547034", Due: time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)},
		testenv.OdooInvoice{Partner: "Müller GmbH", Amount: "300.10", Due: time.Date(2026, 11, 6, 0, 0, 0, 0, time.UTC)},
		inv("Dupont SARL", "99.99"),
		testenv.OdooInvoice{Partner: "Dupont SARL", Amount: "20.00", Refund: true},
		inv("Rossi Srl", "70.00"),
		testenv.OdooInvoice{Partner: "Rossi Srl", Amount: "500.00", Currency: "USD"},
		testenv.OdooInvoice{Partner: "Rossi Srl", Amount: "5.00", Draft: true},
		inv("Rossi Srl", "6.00"),
	)
	if err := f.db.Pay(atoi(ids[2]), "50.00", oct1); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Pay(atoi(ids[4]), "70.00", oct1); err != nil {
		t.Fatal(err)
	}
	f.call(nil, "account.move", "button_cancel", []any{[]int{atoi(ids[7])}}, nil)
	var names []struct {
		ID   int  `json:"id"`
		Name Text `json:"name"`
	}
	f.call(&names, "account.move", "read", []any{[]int{atoi(ids[0]), atoi(ids[1]), atoi(ids[2]), atoi(ids[3]), atoi(ids[5])}},
		map[string]any{"fields": []string{"name"}})
	num := map[int]string{}
	for _, n := range names {
		num[n.ID] = string(n.Name)
	}
	c := f.client(nil)
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
	var got []string
	for _, it := range items {
		p, _ := strconv.Atoi(it.CustomerID)
		if f.names[p] == "" {
			continue // another test's
		}
		got = append(got, fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", it.ID, f.names[p], it.CustomerName, it.DocumentNumber,
			it.PaymentReference, it.IssueDate.Format(time.DateOnly), it.DueDate.Format(time.DateOnly), it.Currency, it.Amount, it.Residual,
			strings.Join(it.IBANs, ",")))
	}
	id0, id1, id2, id3, id5 := atoi(ids[0]), atoi(ids[1]), atoi(ids[2]), atoi(ids[3]), atoi(ids[5])
	want := []string{
		fmt.Sprintf("%d|Dupont SARL|Dupont SARL %s|%s|RF18539007547034|2026-10-01|2026-10-31|EUR|1250.00|1250.00|FR7630006000011234567890189", id0, f.id, num[id0]),
		fmt.Sprintf("%d|Müller GmbH|Müller GmbH %s|%s|%s|2026-10-01|2026-11-06|EUR|300.10|300.10|DE89370400440532013000", id1, f.id, num[id1], num[id1]),
		fmt.Sprintf("%d|Dupont SARL|Dupont SARL %s|%s|%s|2026-10-01|2026-10-01|EUR|99.99|49.99|FR7630006000011234567890189", id2, f.id, num[id2], num[id2]),
		fmt.Sprintf("%d|Dupont SARL|Dupont SARL %s|%s||2026-10-01|2026-10-01|EUR|-20.00|-20.00|FR7630006000011234567890189", id3, f.id, num[id3]),
		fmt.Sprintf("%d|Rossi Srl|Rossi Srl %s|%s|%s|2026-10-01|2026-10-01|USD|500.00|500.00|", id5, f.id, num[id5], num[id5]),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("open items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Pages of 2: several search_read calls, one bank account read per page.
	if n := f.px.count("account.move.search_read"); n < 3 {
		t.Errorf("%d pages read, want several of 2", n)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

// Payments mode: one account.payment per allocation, through the register
// wizard, the decision key in its memo; a replay registers nothing; a
// write-off closes the invoice on write_off_account.
func TestApplyExactlyOnce(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "1250.00"), inv("Müller", "300.10"), inv("Dupont", "99.99"), inv("Rossi", "500.00"))
	if err := f.db.Pay(atoi(ids[2]), "50.00", time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	c := f.client(func(c *Config) { c.Journal = "BNK1"; c.WriteOffAccount = "658000" })
	ctx := context.Background()
	batch := []connectors.KeyedDecision{
		f.kd("k-full", al(ids[0], "1250.00", "")),
		f.kd("k-partial", al(ids[1], "100.05", "")),
		f.kd("k-two", al(ids[2], "49.50", "0.49"), al(ids[3], "200", "")),
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := f.states(ids...), "paid/0 partial/200.05 paid/0 partial/300"; got != want {
		t.Fatalf("invoices = %q, want %q", got, want)
	}
	wantMemos := strings.Join([]string{
		pay("lettrage:"+f.key("k-full")+":1/1", "1250", ids[0], "posted"),
		pay("lettrage:"+f.key("k-partial")+":1/1", "100.05", ids[1], "posted"),
		pay("lettrage:"+f.key("k-two")+":1/2", "49.5", ids[2], "posted"),
		pay("lettrage:"+f.key("k-two")+":2/2", "200", ids[3], "posted"),
	}, " ")
	if got := f.memos(); got != wantMemos {
		t.Errorf("payments = %q, want %q", got, wantMemos)
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := f.memos(); got != wantMemos {
		t.Errorf("payments after replay = %q, want %q", got, wantMemos)
	}
	if n := f.px.count("account.payment.register.action_create_payments"); n != 4 {
		t.Errorf("action_create_payments called %d times, want 4", n)
	}
	applied, err := c.Applied(ctx, []string{f.key("k-full"), f.key("k-two"), f.key("k-none")})
	if err != nil {
		t.Fatalf("Applied: %v", err)
	}
	if len(applied) != 2 || !applied[f.key("k-full")] || !applied[f.key("k-two")] {
		t.Errorf("Applied = %v, want k-full and k-two", applied)
	}
	// In BNK1; the write-off of 0.49 on 658000.
	ps := f.payments()
	var bnk []int
	f.call(&bnk, "account.journal", "search", []any{[]any{[]any{"code", "=", "BNK1"}}}, nil)
	for _, p := range ps[1:] {
		if p.Journal.ID != bnk[0] || p.Date != "2026-11-20" {
			t.Errorf("payment %s: journal %v, date %s; want BNK1, 2026-11-20", p.Memo, p.Journal, p.Date)
		}
	}
	var lines []struct {
		Account Many2one `json:"account_id"`
		Balance Number   `json:"balance"`
	}
	f.call(&lines, "account.move.line", "search_read", []any{[]any{[]any{"move_id", "=", ps[3].Move.ID}, []any{"account_id.code", "=", "658000"}}},
		map[string]any{"fields": []string{"account_id", "balance"}})
	if len(lines) != 1 || amt(t, lines[0].Balance) != "0.49" {
		t.Errorf("write-off items of %s: %+v, want one of 0.49 on 658000", ps[3].Memo, lines)
	}
}

// A run paid the first of two allocations and died: Applied says no, and
// Apply pays only the second.
func TestCrashBetweenPaymentsCompletesOnlyTheRest(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "49.99"), inv("Rossi", "500"))
	c := f.client(nil)
	ctx := context.Background()
	two := f.kd("k-two", al(ids[0], "49.99", ""), al(ids[1], "500", ""))
	if err := c.setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.register(ctx, two, two.Decision.Allocations[0], atoi(ids[0]), memo(two.Key, 1, 2)); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Applied(ctx, []string{two.Key}); got[two.Key] {
		t.Fatalf("a half-paid decision reported applied")
	}
	if err := c.Apply(ctx, []connectors.KeyedDecision{two}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := pay("lettrage:"+two.Key+":1/2", "49.99", ids[0], "posted") + " " + pay("lettrage:"+two.Key+":2/2", "500", ids[1], "posted")
	if got := f.memos(); got != want {
		t.Errorf("payments = %q, want %q", got, want)
	}
	if got, _ := c.Applied(ctx, []string{two.Key}); !got[two.Key] {
		t.Errorf("completed decision not reported applied")
	}
}

// Transport faults around the payment: the connection drops after Odoo
// registered it (the re-check finds it: not sent again), or before Odoo
// saw it (sent again), or halfway through the answer; a front answers
// 502/503/429: every time exactly one payment.
func TestPaymentTransportFaults(t *testing.T) {
	t.Parallel() // beside the other tests; each subtest borrows a database (newFx)
	tests := []struct {
		name  string
		rule  rule
		calls int // action_create_payments reaching the proxy
	}{
		{name: "answer lost after Odoo acted", rule: rule{fault: loseAnswer, nth: 1}, calls: 1},
		{name: "request lost before Odoo", rule: rule{fault: loseRequest, nth: 1}, calls: 2},
		{name: "connection cut mid-answer", rule: rule{fault: cutAnswer, nth: 1}, calls: 1},
		{name: "502 from a front", rule: rule{fault: frontStatus, status: 502, nth: 1}, calls: 2},
		{name: "503 from a front", rule: rule{fault: frontStatus, status: 503, nth: 1}, calls: 2},
		{name: "429 from a front", rule: rule{fault: frontStatus, status: 429, nth: 1}, calls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFx(t)
			ids := f.invoices(inv("Müller", "300.10"))
			tc.rule.call = "account.payment.register.action_create_payments"
			f.px.on(tc.rule)
			c := f.client(nil)
			d := f.kd("k-slow", al(ids[0], "300.10", ""))
			if err := c.Apply(context.Background(), []connectors.KeyedDecision{d}); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got, want := f.memos(), pay("lettrage:"+d.Key+":1/1", "300.1", ids[0], "posted"); got != want {
				t.Errorf("payments = %q, want exactly %q", got, want)
			}
			if n := f.px.count(tc.rule.call); n != tc.calls {
				t.Errorf("action_create_payments sent %d times, want %d", n, tc.calls)
			}
		})
	}
}

// Odoo registers the payment but answers after the client's timeout: the
// re-check finds the payment, which is not registered twice.
func TestPaymentAnswerAfterTheTimeout(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	f.px.on(rule{call: "account.payment.register.action_create_payments", nth: 1, fault: slowAnswer})
	c := f.client(func(c *Config) { c.Timeout = 5 * time.Second })
	d := f.kd("k-slow", al(ids[0], "300.10", ""))
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got, want := f.memos(), pay("lettrage:"+d.Key+":1/1", "300.1", ids[0], "posted"); got != want {
		t.Errorf("payments = %q, want exactly %q", got, want)
	}
	if n := f.px.count("account.payment.register.action_create_payments"); n != 1 {
		t.Errorf("action_create_payments sent %d times, want 1", n)
	}
}

// Two transactions numbering entries of one journal at once: Odoo answers
// a ValidationError ("Another entry with the same name already exists")
// caused by a UniqueViolation — recorded from this server under load and
// replayed here. Odoo rolled the call back: the connector sends it again
// (a clash is over in a moment), and when it persists that is an outage —
// a plain error, the write-back retried later — never a rejection.
func TestDatabaseErrorIsNotARefusal(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "42"))
	const rec = "concurrent-statement-line-create.json"
	ctx := context.Background()
	// Once: sent again, written.
	f.px.on(rule{call: "account.payment.register.action_create_payments", nth: 1, fault: replay, file: rec})
	if err := f.client(nil).Apply(ctx, []connectors.KeyedDecision{f.kd("k1", al(ids[0], "42", ""))}); err != nil {
		t.Fatalf("Apply after one clash: %v", err)
	}
	if got, n := f.states(ids[0]), f.px.count("account.payment.register.action_create_payments"); got != "paid/0" || n != 2 {
		t.Errorf("invoice %s after %d action_create_payments; want paid after 2", got, n)
	}
	// Every time: a plain error; later, written.
	for n := 1; n <= clashAttempts; n++ {
		f.px.on(rule{call: "account.bank.statement.line.create", nth: n, fault: replay, file: rec})
	}
	exc := []connectors.Exception{f.exc("tx-x", "3", domain.Decision{Outcome: domain.Unmatched})}
	c := f.client(recording)
	err := c.RecordExceptions(ctx, exc)
	var oe *Error
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 || !errors.As(err, &oe) ||
		oe.Name != "odoo.exceptions.ValidationError" || oe.Cause != "psycopg2.errors.UniqueViolation" || oe.Business() {
		t.Errorf("RecordExceptions = %v; want a plain error from the UniqueViolation, no rejection", err)
	}
	if err := c.RecordExceptions(ctx, exc); err != nil || f.line("tx-x") == nil {
		t.Errorf("RecordExceptions again = %v, line %s", err, f.lines("tx-x"))
	}
}

// Refused decisions come back as RejectedErrors carrying the reason; the
// other decisions of the batch are paid all the same. One batch holds
// every case, each decision on invoices of its own.
func TestApplyRefusals(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "70.00"), inv("Rossi", "5"), inv("Rossi", "5"), inv("Rossi", "70.00"),
		inv("Rossi", "70.00"), inv("Rossi", "70.00"), inv("Rossi", "10.00"))
	paid, draft, cancelled, above, shared, good, gone := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6]
	if err := f.db.Pay(atoi(paid), "70.00", time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	f.call(nil, "account.move", "button_draft", []any{[]int{atoi(draft)}}, nil)
	f.call(nil, "account.move", "button_cancel", []any{[]int{atoi(cancelled), atoi(gone)}}, nil)
	tests := []struct {
		decision    connectors.KeyedDecision
		errIs       error
		errContains string
	}{
		{decision: f.kd("paid", al(paid, "70.00", "")), errIs: ErrItemNotOpen, errContains: "payment state paid"},
		{decision: f.kd("draft", al(draft, "5", "")), errIs: ErrItemNotOpen, errContains: "state draft"},
		{decision: f.kd("cancelled", al(cancelled, "5", "")), errIs: ErrItemNotOpen, errContains: "state cancel"},
		{decision: f.kd("above", al(above, "70.01", "")), errIs: ErrAboveResidual, errContains: "70.01 > 70"},
		// The first decision on the shared invoice takes 40 of its 70.
		{decision: f.kd("above-in-batch", al(shared, "40", "")), errIs: ErrAboveResidual, errContains: "40 > 30"},
		{decision: f.kd("unknown", al("999999", "1", "")), errIs: ErrNotFound, errContains: "invoice 999999"},
		{decision: f.kd("not-an-id", al("INV-1", "1", "")), errContains: "not an Odoo invoice id"},
		// One bad item refuses its whole decision, the good item unpaid.
		{decision: f.kd("one-bad-item", al(good, "0.01", ""), al(gone, "1", "")), errIs: ErrItemNotOpen, errContains: "invoice " + gone},
	}
	batch := []connectors.KeyedDecision{f.kd("k-ok", al(good, "70.00", "")), f.kd("k-shared", al(shared, "40", ""))}
	for _, tc := range tests {
		batch = append(batch, tc.decision)
	}
	c := f.client(nil)
	err := c.Apply(context.Background(), batch)
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != len(tests) {
		t.Fatalf("Apply = %v; want %d rejections and nothing else", err, len(tests))
	}
	byKey := map[string]*connectors.RejectedError{}
	for _, r := range rej {
		byKey[r.Key] = r
	}
	for _, tc := range tests {
		r := byKey[tc.decision.Key]
		switch {
		case r == nil:
			t.Errorf("%s: not refused", tc.decision.Key)
		case r.Partial:
			t.Errorf("%s: refused as partial", tc.decision.Key)
		case tc.errIs != nil && !errors.Is(r, tc.errIs):
			t.Errorf("%s: %v is not %v", tc.decision.Key, r, tc.errIs)
		case !strings.Contains(r.Reason, tc.errContains):
			t.Errorf("%s: reason %q does not contain %q", tc.decision.Key, r.Reason, tc.errContains)
		}
	}
	want := pay("lettrage:"+f.key("k-ok")+":1/1", "70", good, "posted") + " " + pay("lettrage:"+f.key("k-shared")+":1/1", "40", shared, "posted")
	if got := f.memos(); got != want {
		t.Errorf("payments = %q, want %q", got, want)
	}
	err = c.Apply(context.Background(), []connectors.KeyedDecision{{Key: "k1", Decision: domain.Decision{Outcome: domain.Unmatched}}})
	if !errors.Is(err, ErrNotAuto) {
		t.Errorf("Apply(unmatched) = %v, want ErrNotAuto", err)
	}
	if rej, _ := connectors.Rejections(err); len(rej) != 0 {
		t.Errorf("a programming error became a rejection: %v", err)
	}
}

// Someone pays the invoice in Odoo between Lettrage's check and its
// payment: Odoo's own refusal comes back typed, located and as a rejection.
func TestOdooUserErrorIsTyped(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Müller", "300.10"))
	f.px.on(rule{call: "account.payment.register.create", nth: 1, before: func() {
		if err := f.db.Pay(atoi(ids[0]), "300.10", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Error(err)
		}
	}})
	c := f.client(nil)
	d := f.kd("k1", al(ids[0], "300.10", ""))
	err := c.Apply(context.Background(), []connectors.KeyedDecision{d})
	var oe *Error
	var ie *ItemError
	if !errors.As(err, &oe) || !oe.Business() || oe.Name != "odoo.exceptions.UserError" {
		t.Fatalf("Apply = %v, want a typed Odoo UserError", err)
	}
	if !errors.As(err, &ie) || ie.Key != d.Key || ie.ItemID != ids[0] {
		t.Errorf("error %v is not located at k1/%s", err, ids[0])
	}
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Reason != oe.Message || rej[0].Partial {
		t.Errorf("Rejections = %+v, %v; want k1 with Odoo's message", rej, only)
	}
	t.Logf("Odoo said: %s", oe.Message)
}

// Odoo refuses the second payment of a two-invoice decision after the first
// went through (someone paid that invoice in Odoo meanwhile): the rejection
// says it is partial; the next decision is paid.
func TestRejectionAfterAPaymentIsPartial(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Dupont", "1250.00"), inv("Müller", "300.10"), inv("Rossi", "500.00"))
	f.px.on(rule{call: "account.payment.register.create", nth: 2, before: func() {
		if err := f.db.Pay(atoi(ids[1]), "300.10", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Error(err)
		}
	}})
	c := f.client(nil)
	k1 := f.kd("k1", al(ids[0], "1250.00", ""), al(ids[1], "300.10", ""))
	k2 := f.kd("k2", al(ids[2], "500.00", ""))
	err := c.Apply(context.Background(), []connectors.KeyedDecision{k1, k2})
	rej, only := connectors.Rejections(err)
	if !only || len(rej) != 1 || rej[0].Key != k1.Key || !rej[0].Partial || !strings.Contains(rej[0].Reason, "nothing left to pay") {
		t.Fatalf("Apply = %v; want k1 rejected as partial with Odoo's message", err)
	}
	want := pay("lettrage:"+k1.Key+":1/2", "1250", ids[0], "posted") + " " + pay("lettrage:"+k2.Key+":1/1", "500", ids[2], "posted")
	if got := f.memos(); got != want {
		t.Errorf("payments = %q, want %q", got, want)
	}
}

// Odoo 17 does not refuse a payment dated in a locked period: it books it
// after the lock date (on the first open day, or today, by the sequence's
// period: account.move._get_accounting_date). The decision is written.
func TestLockedPeriodMovesThePaymentDate(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "70.00"))
	f.lock("2026-11-30")
	c := f.client(nil)
	d := f.kd("k1", al(ids[0], "70.00", ""))
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{d}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	ps := f.payments()
	if len(ps) != 1 || ps[0].Date <= "2026-11-30" || ps[0].State != "posted" || f.states(ids[0]) != "paid/0" {
		t.Errorf("payments %+v, invoice %s; want one posted after 2026-11-30, the invoice paid", ps, f.states(ids[0]))
	}
}

func TestAuthErrors(t *testing.T) {
	f := newFx(t)
	tests := []struct {
		name        string
		mut         func(*Config)
		errIs       error
		errContains string
	}{
		{name: "wrong key", mut: func(c *Config) { c.APIKey = "wrong-secret-key" }, errIs: ErrAuth, errContains: "refused the login or API key"},
		{name: "wrong user", mut: func(c *Config) { c.User = "mallory" }, errIs: ErrAuth},
		{name: "wrong database", mut: func(c *Config) { c.Database = "nope" }, errIs: ErrUnknownDatabase, errContains: `database "nope"`},
		{name: "unknown journal", mut: func(c *Config) { c.Journal = "Cash" }, errIs: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client(tc.mut)
			_, err := c.OpenItems(context.Background())
			if err == nil {
				t.Fatal("OpenItems succeeded")
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
			if !strings.Contains(err.Error(), tc.errContains) {
				t.Errorf("error %q does not contain %q", err, tc.errContains)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), server.APIKey) {
				t.Errorf("error leaks the key: %v", err)
			}
			if tc.errIs != ErrUnknownDatabase && errors.Is(err, ErrUnknownDatabase) || tc.errIs == ErrUnknownDatabase && errors.Is(err, ErrAuth) {
				t.Errorf("error %v mixes up the database and the credentials", err)
			}
		})
	}
}

// The user is archived after login (its access revoked): execute_kw
// answers AccessDenied, an authentication error, never a refusal of a
// decision.
func TestRevokedAccess(t *testing.T) {
	f := newFx(t)
	ids := f.invoices(inv("Rossi", "10"))
	c := f.client(nil)
	if _, err := c.OpenItems(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.call(nil, "res.users", "write", []any{[]int{f.db.UserUID}, map[string]any{"active": false}}, nil)
	t.Cleanup(func() {
		f.call(nil, "res.users", "write", []any{[]int{f.db.UserUID}, map[string]any{"active": true}}, nil)
	})
	_, err := c.OpenItems(context.Background())
	var oe *Error
	if !errors.Is(err, ErrAuth) || !errors.As(err, &oe) || oe.Name != "odoo.exceptions.AccessDenied" {
		t.Errorf("OpenItems with a revoked access = %v, want ErrAuth wrapping AccessDenied", err)
	}
	err = c.Apply(context.Background(), []connectors.KeyedDecision{f.kd("k1", al(ids[0], "10", ""))})
	if rej, _ := connectors.Rejections(err); err == nil || len(rej) != 0 || !errors.Is(err, ErrAuth) {
		t.Errorf("Apply with a revoked access = %v, want ErrAuth and no rejection", err)
	}
}

func TestAPIKeyFile(t *testing.T) {
	f := newFx(t)
	p := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(p, []byte(server.APIKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := f.client(func(c *Config) { c.APIKey, c.APIKeyFile = "", p })
	if _, err := c.OpenItems(context.Background()); err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "https://erp.example.com", Database: "prod", User: "lettrage", APIKey: "k"}
	tests := []struct {
		name        string
		mut         func(*Config)
		errContains string
	}{
		{name: "ok"},
		{name: "no url", mut: func(c *Config) { c.URL = "" }, errContains: "url: required"},
		{name: "bad url", mut: func(c *Config) { c.URL = "erp.example.com" }, errContains: "url: \"erp.example.com\" is not"},
		{name: "no database", mut: func(c *Config) { c.Database = "" }, errContains: "database: required"},
		{name: "no user", mut: func(c *Config) { c.User = "" }, errContains: "user: required"},
		{name: "no key", mut: func(c *Config) { c.APIKey = "" }, errContains: "api_key: required"},
		{name: "both keys", mut: func(c *Config) { c.APIKeyFile = "f" }, errContains: "api_key_file: set either"},
		{name: "negative page", mut: func(c *Config) { c.PageSize = -1 }, errContains: "page_size"},
		{name: "record_exceptions without journal", mut: func(c *Config) { c.RecordExceptions = true }, errContains: "journal: required with record_exceptions"},
		{name: "record_exceptions", mut: func(c *Config) { c.RecordExceptions = true; c.Journal = "BNK1" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			if tc.mut != nil {
				tc.mut(&c)
			}
			err := c.Validate()
			if tc.errContains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errContains) {
				t.Fatalf("Validate = %v, want %q", err, tc.errContains)
			}
		})
	}
}

func TestNumberAmount(t *testing.T) {
	tests := []struct {
		in      string
		digits  int32
		want    string
		wantErr bool
	}{
		{"300.1", 2, "300.10", false},
		{"1250.0", 2, "1250.00", false},
		{"0.30000000000000004", 2, "0.30", false},
		{"1e-05", 2, "0.00", false},
		{"1.5E+3", 2, "1500.00", false},
		{"12", 0, "12", false},
		{"-20.0", 2, "-20.00", false},
		{"1.0005", 3, "1.000", false}, // half-even
		{"abc", 2, "", true},
	}
	for _, tc := range tests {
		got, err := Number(tc.in).Amount(tc.digits)
		if (err != nil) != tc.wantErr {
			t.Errorf("Number(%q).Amount: err = %v", tc.in, err)
			continue
		}
		if err == nil && got.StringFixed(tc.digits) != tc.want {
			t.Errorf("Number(%q).Amount(%d) = %s, want %s", tc.in, tc.digits, got.StringFixed(tc.digits), tc.want)
		}
	}
}

func TestMemo(t *testing.T) {
	for _, key := range []string{"k1", "job:tx:ab_c%", "a:b:1/2"} {
		m := memo(key, 2, 3)
		k, n, count, ok := parseMemo(m)
		if !ok || k != key || n != 2 || count != 3 {
			t.Errorf("parseMemo(memo(%q)) = %q %d %d %v", key, k, n, count, ok)
		}
	}
	for _, bad := range []string{"", "PAY/2026/0001", "lettrage:k", "lettrage:k:3/2", "lettrage:k:x/2"} {
		if _, _, _, ok := parseMemo(bad); ok {
			t.Errorf("parseMemo(%q) accepted", bad)
		}
	}
}

func FuzzNumber(f *testing.F) {
	for _, s := range []string{"300.1", "1e-05", "-0.0", "12", "false", `"x"`, "1.7976931348623157e+308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		var n Number
		if err := json.Unmarshal([]byte(s), &n); err != nil {
			return
		}
		a, err := n.Amount(2)
		if err != nil {
			return
		}
		if a.Scale() > 2 {
			t.Fatalf("Number(%q).Amount(2) = %s with %d digits", s, a, a.Scale())
		}
	})
}

func FuzzParseMemo(f *testing.F) {
	f.Add("lettrage:k:1/2")
	f.Add("lettrage::0/0")
	f.Fuzz(func(t *testing.T, s string) {
		key, n, count, ok := parseMemo(s)
		if ok && memo(key, n, count) != s {
			t.Fatalf("parseMemo(%q) = %q %d %d does not round-trip", s, key, n, count)
		}
	})
}
