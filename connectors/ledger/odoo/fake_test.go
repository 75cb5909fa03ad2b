package odoo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lettrage/lettrage/matcher"
)

// fakeOdoo reproduces the documented shapes of Odoo's external JSON-RPC API
// (POST /jsonrpc, {"jsonrpc":"2.0","method":"call","params":{"service",
// "method","args"}}) for the calls the connector makes, including error
// answers ({"error":{"code":200,"message":"Odoo Server Error","data":{"name":
// "odoo.exceptions.…","message":…}}}) and version differences (account.payment
// "ref" up to 17, "memo" from 18).
type fakeOdoo struct {
	t       *testing.T
	major   int
	db      string
	login   string
	key     string
	uid     int
	mu      sync.Mutex
	moves   map[int]*fakeMove
	banks   []fakeBank
	journal map[int][2]string // id → code, name
	pays    []fakePayment
	wizards map[int]fakeWizard
	nextID  int
	calls   map[string]int // "model.method" → count
	// afterPayment, when set, runs after action_create_payments did its
	// work and before the answer is written (fault injection).
	afterPayment func(w http.ResponseWriter, r *http.Request) bool
	// beforePayment, when set, runs before action_create_payments acts; it
	// returns true when it answered (the payment is not made).
	beforePayment func(w http.ResponseWriter, r *http.Request) bool
	// refuse, when set, is asked before any model method runs; a non-empty
	// name makes Odoo raise that exception with msg (nothing changes).
	refuse func(model, method string) (name, msg string)
	// after, when set, runs after model.method did its work and before
	// the answer is written; it returns true when it answered.
	after func(model, method string, w http.ResponseWriter, r *http.Request) bool

	stLines  []*fakeStLine
	lockDate string // entries dated on or before it are refused
	nextLine int
	entries  []*fakeEntry // journal entries (account.move, move_type entry)
}

type fakeMove struct {
	id               int
	name, moveType   string
	state, payState  string
	partner          int
	partnerName      string
	currency         string
	date, due        string
	total, residual  matcher.Amount
	paymentReference string
	ref              string
	journal          int
}

type fakeBank struct {
	partner int
	acc     string
}

type fakePayment struct {
	id       int
	memo     string
	amount   matcher.Amount
	move     int
	state    string
	journal  int
	date     string
	writeOff int
	settled  matcher.Amount // what it reconciled on the invoice
	partner  int            // payments created directly (account.payment.create)
}

type fakeWizard struct {
	vals    map[string]json.RawMessage
	moveIDs []int
}

func newFakeOdoo(t *testing.T, major int) (*fakeOdoo, *httptest.Server) {
	f := &fakeOdoo{t: t, major: major, db: "prod", login: "lettrage", key: "0123456789abcdef-api-key", uid: 7,
		moves: map[int]*fakeMove{}, wizards: map[int]fakeWizard{}, nextID: 1000, calls: map[string]int{}, nextLine: 5000,
		journal: map[int][2]string{11: {"BNK1", "Bank"}, 12: {"BNK2", "Bank 2"}}}
	add := func(id int, name, typ, partnerName string, partner int, total, residual, pstate, ref, due string) {
		f.moves[id] = &fakeMove{id: id, name: name, moveType: typ, state: "posted", payState: pstate, partner: partner,
			partnerName: partnerName, currency: "EUR", date: "2026-10-01", due: due,
			total: matcher.MustAmount(total), residual: matcher.MustAmount(residual), paymentReference: ref}
	}
	add(1, "INV/2026/00001", "out_invoice", "Dupont SARL", 41, "1250.00", "1250.00", "not_paid", "RF18539007547034", "2026-10-31")
	add(2, "INV/2026/00002", "out_invoice", "Müller GmbH", 42, "300.10", "300.10", "not_paid", "INV/2026/00002", "2026-11-06")
	add(3, "INV/2026/00003", "out_invoice", "Dupont SARL", 41, "99.99", "49.99", "partial", "", "")
	add(4, "RINV/2026/00001", "out_refund", "Dupont SARL", 41, "20.00", "20.00", "not_paid", "", "2026-10-15")
	add(5, "INV/2026/00004", "out_invoice", "Rossi Srl", 43, "70.00", "0.00", "paid", "", "2026-10-15")
	add(6, "INV/2026/00005", "out_invoice", "Rossi Srl", 43, "500.00", "500.00", "not_paid", "", "2026-11-20")
	f.moves[7] = &fakeMove{id: 7, name: "/", moveType: "out_invoice", state: "draft", payState: "not_paid", partner: 43,
		partnerName: "Rossi Srl", currency: "EUR", total: matcher.MustAmount("5"), residual: matcher.MustAmount("5")}
	f.banks = []fakeBank{{41, "FR76 3000 6000 0112 3456 7890 189"}, {42, "DE89370400440532013000"}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOdoo) memoField() string {
	if f.major >= 18 {
		return "memo"
	}
	return "ref"
}

type rpcReq struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	ID      any    `json:"id"`
	Params  struct {
		Service string            `json:"service"`
		Method  string            `json:"method"`
		Args    []json.RawMessage `json:"args"`
	} `json:"params"`
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// odooError answers as Odoo does for an exception raised in a call.
func odooError(w http.ResponseWriter, id any, name, message string) {
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": id, "error": map[string]any{
		"code": 200, "message": "Odoo Server Error",
		"data": map[string]any{"name": name, "debug": "Traceback (most recent call last):\n  …\n" + name + ": " + message,
			"message": message, "arguments": []string{message}, "context": map[string]any{}},
	}})
}

func (f *fakeOdoo) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/jsonrpc" || r.Method != "POST" {
		http.NotFound(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req rpcReq
	if err := json.Unmarshal(body, &req); err != nil || req.JSONRPC != "2.0" || req.Method != "call" {
		writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32700, "message": "Parse error"}})
		return
	}
	ok := func(v any) { writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": v}) }
	arg := func(i int, v any) {
		if i >= len(req.Params.Args) {
			f.t.Errorf("%s.%s: missing argument %d", req.Params.Service, req.Params.Method, i)
			return
		}
		if err := json.Unmarshal(req.Params.Args[i], v); err != nil {
			f.t.Errorf("%s.%s: argument %d: %v", req.Params.Service, req.Params.Method, i, err)
		}
	}
	switch req.Params.Service + "." + req.Params.Method {
	case "common.version":
		ok(map[string]any{"server_version": fmt.Sprintf("%d.0", f.major), "server_version_info": []any{f.major, 0, 0, "final", 0, ""},
			"server_serie": fmt.Sprintf("%d.0", f.major), "protocol_version": 1})
		return
	case "common.authenticate", "common.login":
		var db, login, key string
		arg(0, &db)
		arg(1, &login)
		arg(2, &key)
		if db != f.db {
			odooError(w, req.ID, "psycopg2.OperationalError", fmt.Sprintf("FATAL:  database %q does not exist", db))
			return
		}
		if login != f.login || key != f.key {
			ok(false)
			return
		}
		ok(f.uid)
		return
	case "object.execute_kw":
	default:
		odooError(w, req.ID, "builtins.NameError", fmt.Sprintf("service %q method %q not found", req.Params.Service, req.Params.Method))
		return
	}
	var db, key, model, method string
	var uid int
	var args []json.RawMessage
	var kwargs map[string]json.RawMessage
	arg(0, &db)
	arg(1, &uid)
	arg(2, &key)
	arg(3, &model)
	arg(4, &method)
	arg(5, &args)
	if len(req.Params.Args) > 6 {
		arg(6, &kwargs)
	}
	if db != f.db || uid != f.uid || key != f.key {
		odooError(w, req.ID, "odoo.exceptions.AccessDenied", "Access Denied")
		return
	}
	f.mu.Lock()
	f.calls[model+"."+method]++
	f.mu.Unlock()
	if model == "account.payment.register" && method == "action_create_payments" && f.beforePayment != nil && f.beforePayment(w, r) {
		return
	}
	if f.refuse != nil {
		if name, msg := f.refuse(model, method); name != "" {
			odooError(w, req.ID, name, msg)
			return
		}
	}
	res, name, msg := f.execute(model, method, args, kwargs)
	if name != "" {
		odooError(w, req.ID, name, msg)
		return
	}
	if model == "account.payment.register" && method == "action_create_payments" && f.afterPayment != nil && f.afterPayment(w, r) {
		return
	}
	if f.after != nil && f.after(model, method, w, r) {
		return
	}
	ok(res)
}

// execute runs one model method; name/msg describe an exception.
func (f *fakeOdoo) execute(model, method string, args []json.RawMessage, kwargs map[string]json.RawMessage) (res any, name, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var fields []string
	if raw, ok := kwargs["fields"]; ok {
		_ = json.Unmarshal(raw, &fields)
	}
	var domain []json.RawMessage
	if (method == "search_read" || method == "search") && len(args) > 0 {
		if err := json.Unmarshal(args[0], &domain); err != nil {
			return nil, "builtins.ValueError", "Invalid domain: " + err.Error()
		}
	}
	switch model + "." + method {
	case "account.move.search_read", "account.move.read":
		var ids []int
		if method == "read" {
			_ = json.Unmarshal(args[0], &ids)
		} else {
			for id := range f.moves {
				ids = append(ids, id)
			}
			for _, e := range f.entries {
				ids = append(ids, e.id)
			}
			sort.Ints(ids)
		}
		var out []map[string]any
		for _, id := range ids {
			m, ok := f.moves[id]
			if e := f.findEntry(id); e != nil {
				m, ok = e.asMove(), true
			}
			if !ok {
				if method == "read" {
					return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted.\n(Record: account.move(" + fmt.Sprint(id) + ",), User: 7)"
				}
				continue
			}
			rec := map[string]any{"id": m.id, "name": m.name, "move_type": m.moveType, "state": m.state, "payment_state": m.payState,
				"partner_id": []any{m.partner, m.partnerName}, "currency_id": []any{1, m.currency},
				"invoice_date": odooStr(m.date), "invoice_date_due": odooStr(m.due),
				"amount_total": pyFloat(m.total), "amount_residual": pyFloat(m.residual), "payment_reference": odooStr(m.paymentReference),
				"ref": odooStr(m.ref), "journal_id": []any{m.journal, "Journal"}}
			if method == "search_read" {
				match, err := f.match(domain, rec)
				if err != "" {
					return nil, "builtins.ValueError", err
				}
				if !match {
					continue
				}
			}
			if bad := unknownField(fields, rec); bad != "" {
				return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.move"
			}
			out = append(out, project(rec, fields))
		}
		return page(out, kwargs), "", ""
	case "res.partner.bank.search_read":
		var out []map[string]any
		for i, b := range f.banks {
			rec := map[string]any{"id": i + 1, "acc_number": b.acc, "partner_id": []any{b.partner, "p"}}
			if m, _ := f.match(domain, rec); m {
				out = append(out, project(rec, fields))
			}
		}
		return out, "", ""
	case "account.journal.search":
		var out []int
		for id, cn := range f.journal {
			rec := map[string]any{"id": id, "code": cn[0], "name": cn[1], "type": "bank"}
			if m, _ := f.match(domain, rec); m {
				out = append(out, id)
			}
		}
		sort.Ints(out)
		return out, "", ""
	case "account.account.search":
		rec := map[string]any{"id": 501, "code": "658000", "name": "Write-off"}
		if m, _ := f.match(domain, rec); m {
			return []int{501}, "", ""
		}
		return []int{}, "", ""
	case "account.payment.search_read":
		// Odoo checks fields and domain against the model, records or not.
		tmpl := map[string]any{"id": 0, f.memoField(): false, "state": "draft", "amount": 0}
		if bad := unknownField(fields, tmpl); bad != "" {
			return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.payment"
		}
		if _, err := f.match(domain, tmpl); err != "" {
			return nil, "builtins.ValueError", err
		}
		var out []map[string]any
		for _, p := range f.pays {
			rec := map[string]any{"id": p.id, f.memoField(): odooStr(p.memo), "state": p.state, "amount": pyFloat(p.amount)}
			if bad := unknownField(fields, rec); bad != "" {
				return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.payment"
			}
			m, err := f.match(domain, rec)
			if err != "" {
				return nil, "builtins.ValueError", err
			}
			if m {
				out = append(out, project(rec, fields))
			}
		}
		return out, "", ""
	case "account.payment.register.create":
		var vals map[string]json.RawMessage
		if err := json.Unmarshal(args[0], &vals); err != nil {
			return nil, "builtins.TypeError", "create() expects a dict of values"
		}
		var ctx struct {
			ActiveModel string `json:"active_model"`
			ActiveIDs   []int  `json:"active_ids"`
		}
		_ = json.Unmarshal(kwargs["context"], &ctx)
		if ctx.ActiveModel != "account.move" {
			return nil, "odoo.exceptions.UserError", "The register payment wizard should only be called on account.move or account.move.line records."
		}
		for _, id := range ctx.ActiveIDs {
			m := f.moves[id]
			if m == nil || m.state != "posted" {
				return nil, "odoo.exceptions.UserError", "You can only register payment for posted journal entries."
			}
			if m.payState == "paid" || m.residual.IsZero() {
				return nil, "odoo.exceptions.UserError", "You can't register a payment because there is nothing left to pay on the selected journal items."
			}
		}
		for k := range vals {
			switch k {
			case "amount", "payment_date", "communication", "journal_id", "payment_difference_handling", "writeoff_account_id", "writeoff_label":
			default:
				return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.payment.register'"
			}
		}
		f.nextID++
		f.wizards[f.nextID] = fakeWizard{vals: vals, moveIDs: ctx.ActiveIDs}
		return f.nextID, "", ""
	case "account.payment.register.action_create_payments":
		var ids []int
		_ = json.Unmarshal(args[0], &ids)
		if len(ids) != 1 {
			return nil, "builtins.ValueError", "Expected singleton: account.payment.register()"
		}
		wz, ok := f.wizards[ids[0]]
		if !ok {
			return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."
		}
		delete(f.wizards, ids[0])
		var amountNum json.Number
		if err := json.Unmarshal(wz.vals["amount"], &amountNum); err != nil {
			return nil, "builtins.TypeError", "amount must be a number"
		}
		amount := matcher.MustAmount(amountNum.String())
		var memo, date, diff string
		var jid, woAcc int
		_ = json.Unmarshal(wz.vals["communication"], &memo)
		_ = json.Unmarshal(wz.vals["payment_date"], &date)
		_ = json.Unmarshal(wz.vals["payment_difference_handling"], &diff)
		_ = json.Unmarshal(wz.vals["journal_id"], &jid)
		_ = json.Unmarshal(wz.vals["writeoff_account_id"], &woAcc)
		m := f.moves[wz.moveIDs[0]]
		f.nextID++
		state := "posted"
		if f.major >= 18 {
			state = "paid"
		}
		settled := amount
		if diff == "reconcile" {
			settled = m.residual
		}
		f.pays = append(f.pays, fakePayment{id: f.nextID, memo: memo, amount: amount, move: m.id, state: state, journal: jid, date: date,
			writeOff: woAcc, settled: settled})
		m.residual = m.residual.Sub(settled)
		m.payState = "partial"
		if m.residual.Sign() <= 0 {
			m.residual, m.payState = matcher.Amount{}, "paid"
		}
		return map[string]any{"name": "Payments", "type": "ir.actions.act_window", "res_model": "account.payment", "res_id": f.nextID}, "", ""
	}
	return f.executeMore(model, method, args, kwargs, fields, domain)
}

// pyFloat writes an amount as Python's json would write the float.
func pyFloat(a matcher.Amount) json.Number {
	s := a.Key()
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return json.Number(s)
}

func odooStr(s string) any {
	if s == "" {
		return false
	}
	return s
}

func unknownField(fields []string, rec map[string]any) string {
	for _, f := range fields {
		if _, ok := rec[f]; !ok {
			return f
		}
	}
	return ""
}

func project(rec map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return rec
	}
	out := map[string]any{"id": rec["id"]}
	for _, f := range fields {
		out[f] = rec[f]
	}
	return out
}

func page(out []map[string]any, kwargs map[string]json.RawMessage) []map[string]any {
	var offset, limit int
	_ = json.Unmarshal(kwargs["offset"], &offset)
	_ = json.Unmarshal(kwargs["limit"], &limit)
	if offset > len(out) {
		offset = len(out)
	}
	out = out[offset:]
	if limit > 0 && limit < len(out) {
		out = out[:limit]
	}
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

// match evaluates an Odoo domain (prefix notation, implicit AND) on rec.
func (f *fakeOdoo) match(domain []json.RawMessage, rec map[string]any) (bool, string) {
	pos := 0
	var eval func() (bool, string)
	eval = func() (bool, string) {
		if pos >= len(domain) {
			return false, "Invalid domain: too few terms"
		}
		raw := domain[pos]
		pos++
		var op string
		if json.Unmarshal(raw, &op) == nil {
			a, err := eval()
			if err != "" {
				return false, err
			}
			if op == "!" {
				return !a, ""
			}
			b, err := eval()
			if err != "" {
				return false, err
			}
			if op == "|" {
				return a || b, ""
			}
			return a && b, ""
		}
		var term []json.RawMessage
		if err := json.Unmarshal(raw, &term); err != nil || len(term) != 3 {
			return false, "Invalid domain term " + string(raw)
		}
		var field, oper string
		_ = json.Unmarshal(term[0], &field)
		_ = json.Unmarshal(term[1], &oper)
		val, ok := rec[field]
		if !ok {
			return false, "Invalid field " + field + " in leaf " + string(raw)
		}
		have := fmt.Sprint(val)
		if pair, isPair := val.([]any); isPair {
			have = fmt.Sprint(pair[0])
		}
		switch oper {
		case "=":
			var want any
			_ = json.Unmarshal(term[2], &want)
			return have == fmt.Sprint(want), ""
		case "!=":
			var want any
			_ = json.Unmarshal(term[2], &want)
			return have != fmt.Sprint(want), ""
		case "in":
			var want []any
			_ = json.Unmarshal(term[2], &want)
			for _, w := range want {
				if have == fmt.Sprint(w) {
					return true, ""
				}
			}
			return false, ""
		case "=like":
			var pat string
			_ = json.Unmarshal(term[2], &pat)
			s, isStr := val.(string)
			return isStr && likeRE(pat).MatchString(s), ""
		}
		return false, "Invalid operator " + oper
	}
	result := true
	for pos < len(domain) {
		v, err := eval()
		if err != "" {
			return false, err
		}
		result = result && v
	}
	return result, ""
}

// likeRE turns a SQL LIKE pattern (with \ escapes) into a regexp.
func likeRE(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '\\':
			if i+1 < len(pat) {
				i++
				b.WriteString(regexp.QuoteMeta(string(pat[i])))
			}
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// stallUntilClientGone blocks the answer until the client gives up.
func stallUntilClientGone(stop <-chan struct{}) func(w http.ResponseWriter, r *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-r.Context().Done():
		case <-stop:
		case <-time.After(10 * time.Second):
		}
		return true
	}
}
