package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// trytonModules are activated in every test database.
var trytonModules = []string{"account_invoice", "account_statement"}

// Tryton is a Tryton 6 server on 127.0.0.1 with a SQLite database in a
// temporary folder, logged in as admin. Call sends JSON-RPC as that user.
type Tryton struct {
	URL      string // http://127.0.0.1:port
	Database string // "test"
	User     string // "admin"
	Password string // "admin"
	Dir      string

	proc    *Process
	auth    string
	context map[string]any
	hc      *http.Client
}

// TrytondPath finds trytond (Debian: /usr/bin/trytond).
func TrytondPath() (string, error) { return LookPath("trytond", "/usr/bin/trytond") }

// StartTryton starts a server for one test with an empty, initialised
// database (modules account_invoice and account_statement activated) and
// stops it when the test ends. Seed adds a company and invoices.
func StartTryton(t testing.TB) *Tryton {
	t.Helper()
	return startForTest(t, "Tryton", "lettrage-tryton-", NewTryton)
}

// NewTryton starts a server whose config and database live in dir. The
// first start initialises a database with trytond-admin (~25 s) and keeps
// it as a template in the user's cache folder; later starts copy the
// template (< 1 s). Call Stop when done.
func NewTryton(dir string) (*Tryton, error) {
	trytond, err := TrytondPath()
	if err != nil {
		return nil, &NotInstalledError{Program: "trytond", Err: err}
	}
	admin, err := LookPath("trytond-admin", "/usr/bin/trytond-admin")
	if err != nil {
		return nil, &NotInstalledError{Program: "trytond-admin", Err: err}
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	tr := &Tryton{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Database: "test", User: "admin", Password: "admin",
		Dir: dir, hc: &http.Client{Timeout: 60 * time.Second}}
	conf := filepath.Join(dir, "trytond.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[database]\nuri = sqlite://\npath = %s\n\n[web]\nlisten = 127.0.0.1:%d\n\n[session]\ntimeout = 3600\n",
		dir, port)), 0o644); err != nil {
		return nil, fmt.Errorf("writing trytond.conf: %w", err)
	}
	db := filepath.Join(dir, tr.Database+".sqlite")
	tmpl, err := trytonTemplate(admin, dir)
	if err != nil {
		return nil, err
	}
	if err := copyFile(tmpl, db); err != nil {
		return nil, fmt.Errorf("copying the Tryton template database: %w", err)
	}
	proc, err := Start(filepath.Join(dir, "trytond.log"), trytond, "-c", conf, "-d", tr.Database,
		"--pidfile", filepath.Join(dir, "trytond.pid"))
	if err != nil {
		return nil, err
	}
	tr.proc = proc
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := tr.Login()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			tr.Stop()
			return nil, fmt.Errorf("waiting for trytond: %w\n%s", err, proc.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return tr, nil
}

// trytonTemplate returns the path of an initialised database, creating it
// in the cache folder on first use. The name carries a hash of the trytond
// version and modules, so an upgrade makes a new one.
func trytonTemplate(admin, dir string) (string, error) {
	ver, err := exec.Command("/usr/bin/python3", "-c", "import trytond; print(trytond.__version__)").Output()
	if err != nil {
		ver = []byte("unknown")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(ver)) + "|" + strings.Join(trytonModules, ",")))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	cache = filepath.Join(cache, "lettrage", "tryton")
	tmpl := filepath.Join(cache, fmt.Sprintf("template-%x.sqlite", sum[:6]))
	if _, err := os.Stat(tmpl); err == nil {
		return tmpl, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", cache, err)
	}
	// Initialise in a folder of our own, then publish atomically.
	work := filepath.Join(dir, "init")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	conf := filepath.Join(work, "trytond.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[database]\nuri = sqlite://\npath = %s\n", work)), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(work, "pass.txt"), []byte("admin\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(work, "template.sqlite"), nil, 0o644); err != nil {
		return "", err
	}
	args := append([]string{"-c", conf, "-d", "template", "-u"}, trytonModules...)
	args = append(args, "--activate-dependencies", "--email", "admin@example.com")
	cmd := exec.Command(admin, args...)
	cmd.Env = append(os.Environ(), "TRYTONPASSFILE="+filepath.Join(work, "pass.txt"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initialising the Tryton database: %w\n%s", err, tail(out))
	}
	tmp := tmpl + fmt.Sprintf(".%d.tmp", os.Getpid())
	if err := copyFile(filepath.Join(work, "template.sqlite"), tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, tmpl); err != nil {
		return "", fmt.Errorf("publishing the Tryton template: %w", err)
	}
	return tmpl, nil
}

func tail(b []byte) string {
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Stop kills the server by PID; safe to call twice.
func (tr *Tryton) Stop() {
	if tr == nil || tr.proc == nil {
		return
	}
	tr.proc.Stop()
	tr.proc = nil
}

// LogTail is the end of the server log.
func (tr *Tryton) LogTail() string {
	if tr == nil || tr.proc == nil {
		return ""
	}
	return tr.proc.LogTail()
}

// RPCError is a JSON-RPC error answer: Kind is Tryton's exception class
// ("UserError", "UserWarning"…).
type RPCError struct {
	Method string
	Kind   string
	Raw    json.RawMessage
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s: %s: %s", e.Method, e.Kind, e.Raw) }

// Login opens a session as admin and loads the user's preferences, which
// Call passes as the context of every model and wizard call.
func (tr *Tryton) Login() error {
	tr.auth, tr.context = "", nil
	var login []json.RawMessage
	if err := tr.raw("common.db.login", []any{tr.User, map[string]any{"password": tr.Password}, "en"}, &login); err != nil {
		return err
	}
	if len(login) != 2 {
		return fmt.Errorf("logging in to Tryton: unexpected answer %s", login)
	}
	var uid int
	var session string
	if err := json.Unmarshal(login[0], &uid); err != nil {
		return fmt.Errorf("logging in to Tryton: %w", err)
	}
	if err := json.Unmarshal(login[1], &session); err != nil {
		return fmt.Errorf("logging in to Tryton: %w", err)
	}
	tr.auth = "Session " + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%d:%s", tr.User, uid, session)))
	return tr.ReloadContext()
}

// ReloadContext reads the user's preferences again (after the current
// company changed).
func (tr *Tryton) ReloadContext() error {
	var prefs map[string]any
	if err := tr.raw("model.res.user.get_preferences", []any{true, map[string]any{}}, &prefs); err != nil {
		return err
	}
	tr.context = prefs
	return nil
}

// Call sends method with params, adding the user's context as the last
// parameter, and decodes the result into out (nil: discarded).
func (tr *Tryton) Call(out any, method string, params ...any) error {
	return tr.raw(method, append(params, tr.context), out)
}

func (tr *Tryton) raw(method string, params []any, out any) error {
	body, err := json.Marshal(map[string]any{"id": 1, "method": method, "params": params})
	if err != nil {
		return fmt.Errorf("encoding %s: %w", method, err)
	}
	req, err := http.NewRequest("POST", tr.URL+"/"+tr.Database+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tr.auth != "" {
		req.Header.Set("Authorization", tr.auth)
	}
	resp, err := tr.hc.Do(req)
	if err != nil {
		return fmt.Errorf("calling %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %s answer: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("calling %s: HTTP %d: %.300s", method, resp.StatusCode, data)
	}
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return fmt.Errorf("decoding %s answer: %w", method, err)
	}
	if len(env.Error) > 0 && string(env.Error) != "null" {
		var parts []json.RawMessage
		kind := "error"
		if json.Unmarshal(env.Error, &parts) == nil && len(parts) > 0 {
			_ = json.Unmarshal(parts[0], &kind)
		}
		return &RPCError{Method: method, Kind: kind, Raw: env.Error}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return fmt.Errorf("decoding %s result %.200s: %w", method, env.Result, err)
	}
	return nil
}

// TrytonDecimal encodes a decimal string the way Tryton expects.
func TrytonDecimal(s string) map[string]any {
	return map[string]any{"__class__": "Decimal", "decimal": s}
}

// TrytonDate encodes a date the way Tryton expects.
func TrytonDate(t time.Time) map[string]any {
	return map[string]any{"__class__": "date", "year": t.Year(), "month": int(t.Month()), "day": t.Day()}
}

// TrytonSeed names what Seed created.
type TrytonSeed struct {
	Company          int
	Currency         int    // EUR
	Receivable       int    // account "Main Receivable"
	Revenue          int    // account "Main Revenue"
	Expense          int    // account "Main Expense"
	Suspense         int    // account "Suspense" (code 471, reconcilable): unallocated cash
	StatementJournal string // "Bank EUR" (balance validation)
	RevenueJournal   int    // journal "REV" of the invoices
	Parties          map[string]int
	// Invoices maps a label to the id of a posted customer invoice.
	Invoices map[string]int
}

// SeedInvoice is one customer invoice for Seed: one line of Amount.
type SeedInvoice struct {
	Label, Party, Amount, Reference string
	Date                            time.Time
}

// Seed creates, over JSON-RPC only, a company in EUR with the minimal chart
// of accounts, a fiscal year for year with monthly periods and invoice
// sequences, a "Bank EUR" statement journal, the invoices' parties and the
// invoices, posted.
func (tr *Tryton) Seed(year int, invoices []SeedInvoice) (*TrytonSeed, error) {
	s := &TrytonSeed{StatementJournal: "Bank EUR", Parties: map[string]int{}, Invoices: map[string]int{}}
	if err := tr.seedCompany(s); err != nil {
		return nil, err
	}
	acc, err := tr.seedChart(s)
	if err != nil {
		return nil, err
	}
	journalSeq, err := tr.seedFiscalYear(s, year)
	if err != nil {
		return nil, err
	}
	if err := tr.seedJournals(s, acc, journalSeq); err != nil {
		return nil, err
	}
	if err := tr.AddInvoices(s, year, invoices); err != nil {
		return nil, err
	}
	return s, nil
}

// seedStep locates an error of Seed's step what (nil for none).
func seedStep(what string, err error) error {
	if err != nil {
		return fmt.Errorf("seeding Tryton: %s: %w", what, err)
	}
	return nil
}

// trytonIDRow is a record as Seed reads it.
type trytonIDRow struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	Code string `json:"code"`
}

// seedCompany finds or creates the EUR currency and creates the company,
// which becomes the user's; it writes s.Currency and s.Company.
func (tr *Tryton) seedCompany(s *TrytonSeed) error {
	var ids []int
	var rows []trytonIDRow
	if err := tr.Call(&rows, "model.currency.currency.search_read", [][]any{{"code", "=", "EUR"}}, 0, nil, nil, []string{"id"}); err != nil {
		return seedStep("currency", err)
	}
	if len(rows) > 0 {
		s.Currency = rows[0].ID
	} else {
		if err := tr.Call(&ids, "model.currency.currency.create", []map[string]any{{"name": "Euro", "code": "EUR", "symbol": "€",
			"rounding": TrytonDecimal("0.01"), "digits": 2}}); err != nil {
			return seedStep("currency", err)
		}
		s.Currency = ids[0]
	}
	if err := tr.Call(&ids, "model.party.party.create", []map[string]any{{"name": "Lettrage Test SA"}}); err != nil {
		return seedStep("company party", err)
	}
	if err := tr.Call(&ids, "model.company.company.create", []map[string]any{{"party": ids[0], "currency": s.Currency}}); err != nil {
		return seedStep("company", err)
	}
	s.Company = ids[0]
	var uid []int
	if err := tr.Call(&uid, "model.res.user.search", [][]any{{"login", "=", tr.User}}, 0, nil, nil); err != nil || len(uid) != 1 {
		return seedStep("user", fmt.Errorf("finding %s: %v", tr.User, err))
	}
	if err := tr.Call(nil, "model.res.user.write", uid, map[string]any{"companies": []any{[]any{"add", []int{s.Company}}}, "company": s.Company}); err != nil {
		return seedStep("user company", err)
	}
	if err := tr.ReloadContext(); err != nil {
		return seedStep("context", err)
	}
	return nil
}

// seedChart creates the company's chart of accounts from the minimal
// template (through its wizard) and a suspense account; it writes
// s.Receivable, s.Revenue, s.Expense and s.Suspense and returns the
// accounts by name.
func (tr *Tryton) seedChart(s *TrytonSeed) (map[string]int, error) {
	var ids []int
	var rows []trytonIDRow
	// Chart of accounts from the minimal template, through the wizard.
	if err := tr.Call(&rows, "model.account.account.template.search_read", [][]any{{"parent", "=", nil}}, 0, nil, nil, []string{"id", "name"}); err != nil || len(rows) == 0 {
		return nil, seedStep("chart template", fmt.Errorf("%v (%d found)", err, len(rows)))
	}
	tmpl := rows[0].ID
	var wiz []json.RawMessage
	if err := tr.Call(&wiz, "wizard.account.create_chart.create"); err != nil {
		return nil, seedStep("chart wizard", err)
	}
	var sid int
	if err := json.Unmarshal(wiz[0], &sid); err != nil {
		return nil, seedStep("chart wizard", err)
	}
	if err := tr.Call(nil, "wizard.account.create_chart.execute", sid, map[string]any{}, "account"); err != nil {
		return nil, seedStep("chart wizard start", err)
	}
	if err := tr.Call(nil, "wizard.account.create_chart.execute", sid,
		map[string]any{"account": map[string]any{"company": s.Company, "account_template": tmpl}}, "create_account"); err != nil {
		return nil, seedStep("chart accounts", err)
	}
	if err := tr.Call(&rows, "model.account.account.search_read", [][]any{}, 0, nil, nil, []string{"id", "name"}); err != nil {
		return nil, seedStep("accounts", err)
	}
	acc := map[string]int{}
	for _, r := range rows {
		acc[r.Name] = r.ID
	}
	s.Receivable, s.Revenue, s.Expense = acc["Main Receivable"], acc["Main Revenue"], acc["Main Expense"]
	// A suspense account for unallocated cash, under the chart's root, of
	// the current-liability type.
	var types []struct {
		ID int `json:"id"`
	}
	if err := tr.Call(&types, "model.account.account.type.search_read", [][]any{{"name", "=", "Current"},
		{"parent.name", "=", "Liability"}, {"company", "=", s.Company}}, 0, nil, nil, []string{"id"}); err != nil || len(types) == 0 {
		return nil, seedStep("suspense account type", fmt.Errorf("%v (%d found)", err, len(types)))
	}
	var roots []trytonIDRow
	if err := tr.Call(&roots, "model.account.account.search_read", [][]any{{"parent", "=", nil}, {"company", "=", s.Company}}, 0, nil, nil, []string{"id"}); err != nil || len(roots) != 1 {
		return nil, seedStep("chart root", fmt.Errorf("%v (%d found)", err, len(roots)))
	}
	if err := tr.Call(&ids, "model.account.account.create", []map[string]any{{"name": "Suspense", "code": "471",
		"type": types[0].ID, "parent": roots[0].ID, "company": s.Company, "reconcile": true}}); err != nil {
		return nil, seedStep("suspense account", err)
	}
	s.Suspense = ids[0]
	if err := tr.Call(nil, "wizard.account.create_chart.execute", sid, map[string]any{"properties": map[string]any{
		"company": s.Company, "account_receivable": s.Receivable, "account_payable": acc["Main Payable"]}}, "create_properties"); err != nil {
		return nil, seedStep("chart properties", err)
	}
	_ = tr.Call(nil, "wizard.account.create_chart.delete", sid)
	return acc, nil
}

// seedFiscalYear creates the move and invoice sequences and the fiscal
// year of year with its monthly periods; it returns the journals'
// sequence.
func (tr *Tryton) seedFiscalYear(s *TrytonSeed, year int) (int, error) {
	mdata := func(module, fsID string) (int, error) {
		var r []struct {
			DBID int `json:"db_id"`
		}
		if err := tr.Call(&r, "model.ir.model.data.search_read", [][]any{{"module", "=", module}, {"fs_id", "=", fsID}}, 0, nil, nil, []string{"db_id"}); err != nil {
			return 0, err
		}
		if len(r) != 1 {
			return 0, fmt.Errorf("no model data %s.%s", module, fsID)
		}
		return r[0].DBID, nil
	}
	moveType, err := mdata("account", "sequence_type_account_move")
	if err != nil {
		return 0, seedStep("sequence types", err)
	}
	invType, err := mdata("account_invoice", "sequence_type_account_invoice")
	if err != nil {
		return 0, seedStep("sequence types", err)
	}
	journalSeq, err := mdata("account", "sequence_account_journal")
	if err != nil {
		return 0, seedStep("sequence types", err)
	}
	var moveSeq, invSeq []int
	if err := tr.Call(&moveSeq, "model.ir.sequence.create", []map[string]any{{"name": fmt.Sprintf("Moves %d", year), "sequence_type": moveType, "company": s.Company}}); err != nil {
		return 0, seedStep("move sequence", err)
	}
	if err := tr.Call(&invSeq, "model.ir.sequence.strict.create", []map[string]any{{"name": fmt.Sprintf("Invoices %d", year),
		"sequence_type": invType, "company": s.Company, "prefix": fmt.Sprintf("INV%d-", year)}}); err != nil {
		return 0, seedStep("invoice sequence", err)
	}
	var fy []int
	if err := tr.Call(&fy, "model.account.fiscalyear.create", []map[string]any{{
		"name": fmt.Sprint(year), "company": s.Company, "post_move_sequence": moveSeq[0],
		"start_date": TrytonDate(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)),
		"end_date":   TrytonDate(time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC)),
		"invoice_sequences": []any{[]any{"create", []map[string]any{{"company": s.Company,
			"in_invoice_sequence": invSeq[0], "in_credit_note_sequence": invSeq[0],
			"out_invoice_sequence": invSeq[0], "out_credit_note_sequence": invSeq[0]}}}},
	}}); err != nil {
		return 0, seedStep("fiscal year", err)
	}
	if err := tr.Call(nil, "model.account.fiscalyear.create_period", fy); err != nil {
		return 0, seedStep("periods", err)
	}
	return journalSeq, nil
}

// seedJournals finds the revenue journal and creates the bank journal and
// its "Bank EUR" statement journal (on the cash account of acc); it writes
// s.RevenueJournal.
func (tr *Tryton) seedJournals(s *TrytonSeed, acc map[string]int, journalSeq int) error {
	var rows []trytonIDRow
	if err := tr.Call(&rows, "model.account.journal.search_read", [][]any{{"code", "=", "REV"}}, 0, nil, nil, []string{"id"}); err != nil || len(rows) != 1 {
		return seedStep("revenue journal", fmt.Errorf("%v", err))
	}
	revJournal := rows[0].ID
	var bank []int
	if err := tr.Call(&bank, "model.account.journal.create", []map[string]any{{"name": "Bank", "code": "BANK", "type": "statement", "sequence": journalSeq}}); err != nil {
		return seedStep("bank journal", err)
	}
	if err := tr.Call(nil, "model.account.statement.journal.create", []map[string]any{{"name": s.StatementJournal, "journal": bank[0],
		"currency": s.Currency, "company": s.Company, "validation": "balance", "account": acc["Main Cash"]}}); err != nil {
		return seedStep("statement journal", err)
	}
	s.RevenueJournal = revJournal
	return nil
}

// AddInvoices creates customer invoices (and their parties, when new) in a
// seeded database and posts them; s.Invoices and s.Parties record them. An
// invoice without a date is dated 1 October of year.
func (tr *Tryton) AddInvoices(s *TrytonSeed, year int, invoices []SeedInvoice) error {
	step := func(what string, err error) error {
		return fmt.Errorf("seeding Tryton: %s: %w", what, err)
	}
	var ids []int
	var created []int
	for _, inv := range invoices {
		pid, ok := s.Parties[inv.Party]
		if !ok {
			if err := tr.Call(&ids, "model.party.party.create", []map[string]any{{"name": inv.Party,
				"addresses": []any{[]any{"create", []map[string]any{{}}}}}}); err != nil {
				return step("party "+inv.Party, err)
			}
			pid = ids[0]
			s.Parties[inv.Party] = pid
		}
		var p []struct {
			Addresses []int `json:"addresses"`
		}
		if err := tr.Call(&p, "model.party.party.read", []int{pid}, []string{"addresses"}); err != nil || len(p) != 1 || len(p[0].Addresses) == 0 {
			return step("party address", fmt.Errorf("%v", err))
		}
		date := inv.Date
		if date.IsZero() {
			date = time.Date(year, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		if err := tr.Call(&ids, "model.account.invoice.create", []map[string]any{{
			"type": "out", "party": pid, "invoice_address": p[0].Addresses[0], "journal": s.RevenueJournal,
			"account": s.Receivable, "currency": s.Currency, "company": s.Company, "invoice_date": TrytonDate(date),
			"reference": inv.Reference,
			"lines": []any{[]any{"create", []map[string]any{{"type": "line", "quantity": 1.0,
				"unit_price": TrytonDecimal(inv.Amount), "description": "Services " + inv.Label, "account": s.Revenue}}}},
		}}); err != nil {
			return step("invoice "+inv.Label, err)
		}
		s.Invoices[inv.Label] = ids[0]
		created = append(created, ids[0])
	}
	if len(created) > 0 {
		if err := tr.Call(nil, "model.account.invoice.post", created); err != nil {
			return step("posting invoices", err)
		}
	}
	return nil
}

// IsTrytonUserError reports whether err is a Tryton UserError answer.
func IsTrytonUserError(err error) bool {
	var re *RPCError
	return errors.As(err, &re) && re.Kind == "UserError"
}
