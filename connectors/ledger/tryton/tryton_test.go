package tryton

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/testenv"
)

// One real Tryton server for the package, seeded once; each test settles
// its own invoices.
var (
	server    *testenv.Tryton
	seed      *testenv.TrytonSeed
	serverErr error
)

var seedInvoices = []testenv.SeedInvoice{
	{Label: "A", Party: "Dupont SARL", Amount: "1250.00", Reference: "RF18539007547034"},
	{Label: "B", Party: "Müller GmbH", Amount: "300.10"},
	{Label: "C", Party: "Dupont SARL", Amount: "99.99"},
	{Label: "D", Party: "Müller GmbH", Amount: "500.00"},
	{Label: "E", Party: "Rossi Srl", Amount: "42.00"},
	{Label: "F", Party: "Rossi Srl", Amount: "50.00"},
	{Label: "G", Party: "Rossi Srl", Amount: "70.00"},
	{Label: "H", Party: "Dupont SARL", Amount: "10.00"},
	{Label: "I", Party: "Dupont SARL", Amount: "11.00"},
	// rejections_test.go
	{Label: "J", Party: "Dupont SARL", Amount: "100.00"},
	{Label: "K", Party: "Rossi Srl", Amount: "200.00"},
	{Label: "M", Party: "Müller GmbH", Amount: "60.00"},
	{Label: "N", Party: "Müller GmbH", Amount: "25.00"},
	// exceptions_test.go
	{Label: "L", Party: "Rossi Srl", Amount: "80.00"},
	// unletter_test.go: a party of their own, so its receivable is theirs alone
	{Label: "P", Party: "Lefebvre SA", Amount: "120.00"},
	{Label: "Q", Party: "Lefebvre SA", Amount: "100.00"},
	{Label: "R", Party: "Lefebvre SA", Amount: "50.00"},
	{Label: "S", Party: "Lefebvre SA", Amount: "30.00"},
	{Label: "T", Party: "Lefebvre SA", Amount: "80.00"},
	{Label: "U", Party: "Lefebvre SA", Amount: "64.00"},
	// postings_test.go: one party per test, so each receivable balance is
	// the test's own
	{Label: "V", Party: "Garnier SAS", Amount: "200.00"},
	{Label: "W", Party: "Moreau SARL", Amount: "150.00"},
	{Label: "X", Party: "Blanc SA", Amount: "40.00"},
	{Label: "Y", Party: "Faure SARL", Amount: "15.00"},
	{Label: "Z", Party: "Roux SA", Amount: "60.00"},
	{Label: "AA", Party: "Petit SARL", Amount: "33.00"},
	// remainder_test.go: overpaid letters whose remainder goes on account
	{Label: "AB", Party: "Leroy SARL", Amount: "1000.00"},
	{Label: "AC", Party: "Bonnet SA", Amount: "1000.00"},
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		dir, err := os.MkdirTemp("", "lettrage-tryton-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		t0 := time.Now()
		server, serverErr = testenv.NewTryton(dir)
		defer server.Stop()
		if serverErr == nil {
			t1 := time.Now()
			seed, serverErr = server.Seed(2026, seedInvoices)
			if testing.Verbose() {
				fmt.Printf("tryton: started in %v, seeded in %v\n", t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

func tryton(t *testing.T) {
	t.Helper()
	testenv.Need(t, "Tryton", serverErr)
}

func newClient(t *testing.T, mut func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: server.URL, Database: server.Database, User: server.User, Password: server.Password, Journal: seed.StatementJournal}
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func inv(label string) string { return strconv.Itoa(seed.Invoices[label]) }

type invoiceState struct {
	State       string  `json:"state"`
	AmountToPay Decimal `json:"amount_to_pay"`
}

// states reads invoices from Tryton itself: "A=paid/0 B=posted/200.05".
func states(t *testing.T, labels ...string) string {
	t.Helper()
	var out []string
	for _, l := range labels {
		var r []invoiceState
		if err := server.Call(&r, "model.account.invoice.read", []int{seed.Invoices[l]}, []string{"state", "amount_to_pay"}); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s=%s/%s", l, r[0].State, r[0].AmountToPay.Key()))
	}
	return strings.Join(out, " ")
}

func statementCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := server.Call(&n, "model.account.statement.search_count", [][]any{}); err != nil {
		t.Fatal(err)
	}
	return n
}

func kd(key string, booking time.Time, allocs ...domain.Allocation) connectors.KeyedDecision {
	return connectors.KeyedDecision{
		Key: key,
		Tx: domain.Transaction{Key: "tx-" + key, Ref: "REF-" + key, Currency: "EUR", Credit: true, Status: "BOOK",
			BookingDate: booking, Counterparty: domain.Party{Name: "Payer"}},
		Decision:  domain.Decision{Outcome: domain.Auto, Rule: "reference", Confidence: 1, Allocations: allocs},
		DecidedAt: booking.Add(time.Hour),
	}
}

func al(item, amount, writeOff string) domain.Allocation {
	a := domain.Allocation{ItemID: item, Amount: domain.MustAmount(amount)}
	if writeOff != "" {
		a.WriteOff = domain.MustAmount(writeOff)
	}
	return a
}

var booked = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func TestOpenItems(t *testing.T) {
	tryton(t)
	c := newClient(t, func(c *Config) { c.PageSize = 2 }) // several pages
	items, err := c.OpenItems(context.Background())
	if err != nil {
		t.Fatalf("OpenItems: %v", err)
	}
	byID := map[string]domain.OpenItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	a, ok := byID[inv("A")]
	if !ok {
		t.Fatalf("invoice A (%s) missing from %d open items", inv("A"), len(items))
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s", a.CustomerID, a.CustomerName, a.PaymentReference, a.Currency,
		a.Amount, a.Residual, a.IssueDate.Format(time.DateOnly))
	want := fmt.Sprintf("%d|Dupont SARL|RF18539007547034|EUR|1250.00|1250.00|2026-10-01", seed.Parties["Dupont SARL"])
	if got != want {
		t.Errorf("invoice A = %s, want %s", got, want)
	}
	if !strings.HasPrefix(a.DocumentNumber, "INV2026-") {
		t.Errorf("invoice A number = %q, want INV2026-…", a.DocumentNumber)
	}
	if a.DueDate.IsZero() {
		t.Errorf("invoice A has no due date")
	}
	if b := byID[inv("B")]; b.Residual.String() != "300.10" || b.CustomerName != "Müller GmbH" {
		t.Errorf("invoice B = %+v", b)
	}
	for _, it := range items {
		if it.Residual.IsZero() {
			t.Errorf("item %s with nothing to pay listed", it.ID)
		}
	}
}

func TestApplyExactlyOnce(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	before := statementCount(t)
	batch := []connectors.KeyedDecision{
		kd("k-full", booked, al(inv("A"), "1250.00", "")),
		kd("k-partial", booked, al(inv("B"), "100.05", "")),
		kd("k-two", booked, al(inv("C"), "99.99", ""), al(inv("D"), "200", "")),
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := "A=paid/0 B=posted/200.05 C=paid/0 D=posted/300"
	if got := states(t, "A", "B", "C", "D"); got != want {
		t.Fatalf("invoices in Tryton = %q, want %q", got, want)
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements = %d, want %d (one per batch)", n, before+1)
	}
	// The same batch again: nothing new in Tryton.
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply again: %v", err)
	}
	if got := states(t, "A", "B", "C", "D"); got != want {
		t.Errorf("invoices after replay = %q, want %q", got, want)
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements after replay = %d, want %d", n, before+1)
	}
	applied, err := c.Applied(ctx, []string{"k-full", "k-partial", "k-two", "k-never"})
	if err != nil {
		t.Fatalf("Applied: %v", err)
	}
	if len(applied) != 3 || !applied["k-full"] || !applied["k-partial"] || !applied["k-two"] {
		t.Errorf("Applied = %v, want the three keys", applied)
	}
	// The statement is posted and balanced in Tryton.
	var st []struct {
		State string  `json:"state"`
		Start Decimal `json:"start_balance"`
		End   Decimal `json:"end_balance"`
	}
	if err := server.Call(&st, "model.account.statement.search_read", [][]any{}, 0, 1, [][]string{{"id", "DESC"}},
		[]string{"state", "start_balance", "end_balance"}); err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].State != "posted" || st[0].End.Sub(st[0].Start.Amount).Key() != "1650.04" {
		t.Errorf("last statement = %+v, want posted with 1650.04 of lines", st)
	}
	// An invoice paid meanwhile: a located, typed error, nothing written.
	err = c.Apply(ctx, []connectors.KeyedDecision{kd("k-late", booked, al(inv("A"), "10", ""))})
	var ie *ItemError
	if !errors.As(err, &ie) || ie.Key != "k-late" || ie.ItemID != inv("A") || !errors.Is(err, ErrItemNotOpen) {
		t.Errorf("Apply on a paid invoice = %v, want an ItemError wrapping ErrItemNotOpen", err)
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements after refused batch = %d, want %d", n, before+1)
	}
}

func TestApplyFinishesAStatementLeftByACrash(t *testing.T) {
	tryton(t)
	ctx := context.Background()
	c := newClient(t, nil)
	if err := c.setup(ctx); err != nil {
		t.Fatal(err)
	}
	batch := []connectors.KeyedDecision{kd("k-crash", booked, al(inv("G"), "70.00", ""))}
	// The crash: the statement was created, then the process died.
	if _, err := c.create(ctx, batch); err != nil {
		t.Fatalf("create: %v", err)
	}
	before := statementCount(t)
	if got, err := c.Applied(ctx, []string{"k-crash"}); err != nil || got["k-crash"] {
		t.Fatalf("Applied on a draft statement = %v, %v; want not applied", got, err)
	}
	if err := c.Apply(ctx, batch); err != nil {
		t.Fatalf("Apply after crash: %v", err)
	}
	if n := statementCount(t); n != before {
		t.Errorf("statements = %d, want %d (the draft finished, not a second one)", n, before)
	}
	if got := states(t, "G"); got != "G=paid/0" {
		t.Errorf("invoice G = %q, want paid", got)
	}
	if got, err := c.Applied(ctx, []string{"k-crash"}); err != nil || !got["k-crash"] {
		t.Errorf("Applied = %v, %v; want k-crash", got, err)
	}
}

// lossyProxy forwards to Tryton but, the first time it sees method, lets
// Tryton execute the call and then loses the answer (502), as a proxy
// timing out would.
func lossyProxy(t *testing.T, method string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest("POST", server.URL+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		if bytes.Contains(body, []byte(`"`+method+`"`)) && calls.Add(1) == 1 {
			http.Error(w, "upstream timed out", http.StatusBadGateway)
			return
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestLostAnswerIsNotPostedTwice(t *testing.T) {
	tryton(t)
	proxy, calls := lossyProxy(t, "model.account.statement.create")
	c := newClient(t, func(c *Config) { c.URL = proxy.URL })
	before := statementCount(t)
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k-lost", booked, al(inv("H"), "10.00", ""))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("statement.create sent %d times, want 1 (the recheck found it)", calls.Load())
	}
	if n := statementCount(t); n != before+1 {
		t.Errorf("statements = %d, want %d", n, before+1)
	}
	if got := states(t, "H"); got != "H=paid/0" {
		t.Errorf("invoice H = %q, want paid", got)
	}
}

func TestWriteOff(t *testing.T) {
	tryton(t)
	c := newClient(t, func(c *Config) { c.WriteOffAccount = "Main Expense" })
	if err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k-wo", booked, al(inv("F"), "49.50", "0.50"))}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := states(t, "F"); got != "F=paid/0" {
		t.Errorf("invoice F = %q, want paid (49.50 cash + 0.50 written off)", got)
	}
}

func TestBusinessErrorCarriesTrytonsMessage(t *testing.T) {
	tryton(t)
	c := newClient(t, nil)
	// 2031 has no fiscal year: Tryton refuses to validate.
	err := c.Apply(context.Background(), []connectors.KeyedDecision{kd("k-2031", time.Date(2031, 1, 5, 0, 0, 0, 0, time.UTC), al(inv("E"), "42.00", ""))})
	var te *Error
	if !errors.As(err, &te) || !te.Business() || te.Kind != "UserError" || te.Message == "" {
		t.Fatalf("Apply = %v, want a Tryton UserError", err)
	}
	if !strings.Contains(strings.ToLower(te.Message), "period") && !strings.Contains(strings.ToLower(te.Message), "fiscal year") {
		t.Errorf("message %q does not explain the missing period", te.Message)
	}
	if got := states(t, "E"); got != "E=posted/42" {
		t.Errorf("invoice E = %q, want untouched", got)
	}
}

func TestSessionRenewal(t *testing.T) {
	tryton(t)
	c := newClient(t, nil)
	ctx := context.Background()
	if _, err := c.Applied(ctx, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	c.rpc.mu.Lock()
	c.rpc.auth = "Session " + "YWRtaW46MTpleHBpcmVk" // admin:1:expired
	c.rpc.mu.Unlock()
	if _, err := c.OpenItems(ctx); err != nil {
		t.Fatalf("OpenItems with an expired session: %v", err)
	}
}

func TestBadLogin(t *testing.T) {
	tryton(t)
	c := newClient(t, func(c *Config) { c.Password = "wrong" })
	_, err := c.OpenItems(context.Background())
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("OpenItems with a wrong password = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error repeats the password: %v", err)
	}
}

func TestUnknownJournal(t *testing.T) {
	tryton(t)
	c := newClient(t, func(c *Config) { c.Journal = "No Such Journal" })
	if _, err := c.OpenItems(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("OpenItems = %v, want ErrNotFound", err)
	}
}

// --- protocol units (no server) ---

func TestValidate(t *testing.T) {
	ok := Config{URL: "http://tryton:8000", Database: "prod", User: "lettrage", Password: "pw", Journal: "Bank"}
	tests := []struct {
		name        string
		mut         func(*Config)
		errContains string
	}{
		{name: "ok"},
		{name: "password file", mut: func(c *Config) { c.Password, c.PasswordFile = "", "/run/secrets/tryton" }},
		{name: "no url", mut: func(c *Config) { c.URL = "" }, errContains: "url: required"},
		{name: "bad url", mut: func(c *Config) { c.URL = "tryton:8000" }, errContains: "url: \"tryton:8000\" is not"},
		{name: "no database", mut: func(c *Config) { c.Database = "" }, errContains: "database: required"},
		{name: "no user", mut: func(c *Config) { c.User = "" }, errContains: "user: required"},
		{name: "no password", mut: func(c *Config) { c.Password = "" }, errContains: "password: required"},
		{name: "both passwords", mut: func(c *Config) { c.PasswordFile = "x" }, errContains: "password_file: set either"},
		{name: "no journal", mut: func(c *Config) { c.Journal = "" }, errContains: "journal: required"},
		{name: "negative page", mut: func(c *Config) { c.PageSize = -1 }, errContains: "page_size"},
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

func TestParseError(t *testing.T) {
	tests := []struct {
		raw      string
		kind     string
		message  string
		business bool
	}{
		{`["UserError", ["The invoice is paid.", "Use another.", null]]`, "UserError", "The invoice is paid.", true},
		{`["UserWarning", ["stmt.key", "Invoice already paid.", "details"]]`, "UserWarning", "Invoice already paid.", true},
		{`["ConcurrencyException", "Records were modified in the meanwhile"]`, "ConcurrencyException", "Records were modified in the meanwhile", false},
		{`["KeyError", ["'x'", "Traceback…"]]`, "KeyError", "'x'", false},
		{`"plain"`, "error", `"plain"`, false},
	}
	for _, tc := range tests {
		e := parseError("model.x.y", json.RawMessage(tc.raw))
		if e.Kind != tc.kind || e.Message != tc.message || e.Business() != tc.business {
			t.Errorf("parseError(%s) = %+v, want kind %q message %q business %v", tc.raw, e, tc.kind, tc.message, tc.business)
		}
	}
}

func TestDecimalAndDate(t *testing.T) {
	b, err := json.Marshal(Decimal{domain.MustAmount("1250.050")})
	if err != nil || string(b) != `{"__class__":"Decimal","decimal":"1250.050"}` {
		t.Errorf("Marshal(Decimal) = %s, %v", b, err)
	}
	var d Decimal
	if err := json.Unmarshal([]byte(`{"__class__": "Decimal", "decimal": "0.1"}`), &d); err != nil || d.String() != "0.1" {
		t.Errorf("Unmarshal(Decimal) = %v, %v", d, err)
	}
	for _, bad := range []string{`1.5`, `{"__class__":"date"}`, `{"__class__":"Decimal","decimal":"1e5"}`} {
		if err := json.Unmarshal([]byte(bad), &d); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	b, _ = json.Marshal(Date{time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)})
	if string(b) != `{"__class__":"date","day":3,"month":2,"year":2026}` {
		t.Errorf("Marshal(Date) = %s", b)
	}
	var dt Date
	if err := json.Unmarshal(b, &dt); err != nil || dt.Format(time.DateOnly) != "2026-02-03" {
		t.Errorf("Unmarshal(Date) = %v, %v", dt, err)
	}
	if err := json.Unmarshal([]byte(`{"__class__":"date","year":2026,"month":13,"day":1}`), &dt); err == nil {
		t.Errorf("month 13 accepted")
	}
}

func FuzzDecimal(f *testing.F) {
	for _, s := range []string{`{"__class__":"Decimal","decimal":"12.50"}`, `null`, `{"decimal":"-0.001","__class__":"Decimal"}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Decimal
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Decimal
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(d.Amount) || back.String() != d.String() {
			t.Fatalf("round trip of %s: %s → %v, %v", s, b, back, err)
		}
	})
}
