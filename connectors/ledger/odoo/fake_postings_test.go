package odoo

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lettrage/lettrage/matcher"
)

// fakeOutstandingAcc is the "Outstanding Receipts" account: the payment
// account of journal 11's inbound payment method line (61), and the
// company's account_journal_payment_debit_account_id up to Odoo 17.
const fakeOutstandingAcc = 30

// fakePartners are the res.partner records of the fake company.
var fakePartners = map[int]string{41: "Dupont SARL", 42: "Müller GmbH", 43: "Rossi Srl"}

// fakeEntry is a journal entry created through account.move.create
// (move_type entry): draft on create, posted by action_post, back to
// draft by button_draft, cancelled by button_cancel (from draft).
type fakeEntry struct {
	id, journal int
	ref, date   string
	state       string
	lines       []fakeEntryLine
}

type fakeEntryLine struct {
	account, partner int
	name             string
	balance          matcher.Amount
}

func (f *fakeOdoo) findEntry(id int) *fakeEntry {
	for _, e := range f.entries {
		if e.id == id {
			return e
		}
	}
	return nil
}

// asMove is the entry as account.move reads it.
func (e *fakeEntry) asMove() *fakeMove {
	var total matcher.Amount
	for _, l := range e.lines {
		if l.balance.Sign() > 0 {
			total = total.Add(l.balance)
		}
	}
	return &fakeMove{id: e.id, name: fmt.Sprintf("MISC/%d", e.id), moveType: "entry", state: e.state, payState: "not_paid",
		currency: "EUR", date: e.date, total: total, ref: e.ref, journal: e.journal}
}

// executePostings runs account.payment.create/action_post, the journal
// entries' create/action_post/button_draft/button_cancel/write, the
// payment method lines and res.partner.search; handled is false for
// other calls.
func (f *fakeOdoo) executePostings(model, method string, args []json.RawMessage, kwargs map[string]json.RawMessage,
	fields []string, domain []json.RawMessage) (res any, name, msg string, handled bool) {
	ids := func() []int {
		var ids []int
		if len(args) > 0 {
			_ = json.Unmarshal(args[0], &ids)
		}
		return ids
	}
	locked := func(date string) bool { return f.lockDate != "" && date <= f.lockDate }
	lockMsg := "You cannot add/modify entries prior to and inclusive of the lock date " + f.lockDate + "."
	switch model + "." + method {
	case "res.partner.search":
		var out []int
		for id := 40; id < 50; id++ {
			if _, ok := fakePartners[id]; !ok {
				continue
			}
			if m, err := f.match(domain, map[string]any{"id": id}); err != "" {
				return nil, "builtins.ValueError", err, true
			} else if m {
				out = append(out, id)
			}
		}
		if out == nil {
			out = []int{}
		}
		return out, "", "", true
	case "account.payment.method.line.read":
		var out []map[string]any
		for _, id := range ids() {
			rec := map[string]any{"id": id, "payment_account_id": false}
			if id == 61 {
				rec["payment_account_id"] = []any{fakeOutstandingAcc, "Outstanding Receipts"}
			}
			if bad := unknownField(fields, rec); bad != "" {
				return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.payment.method.line", true
			}
			out = append(out, project(rec, fields))
		}
		return out, "", "", true

	case "account.payment.create":
		var vals map[string]json.RawMessage
		if err := json.Unmarshal(args[0], &vals); err != nil {
			return nil, "builtins.TypeError", "create() expects a dict of values", true
		}
		p := fakePayment{journal: 11, state: "draft"}
		var ptype, ptyp2 string
		for k, v := range vals {
			var err error
			switch k {
			case "payment_type":
				err = json.Unmarshal(v, &ptype)
			case "partner_type":
				err = json.Unmarshal(v, &ptyp2)
			case "partner_id":
				err = json.Unmarshal(v, &p.partner)
			case "journal_id":
				err = json.Unmarshal(v, &p.journal)
			case "date":
				err = json.Unmarshal(v, &p.date)
			case f.memoField():
				err = json.Unmarshal(v, &p.memo)
			case "amount":
				var n json.Number
				if err = json.Unmarshal(v, &n); err == nil {
					p.amount, err = matcher.ParseAmount(n.String())
				}
			default:
				return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.payment'", true
			}
			if err != nil {
				return nil, "builtins.ValueError", "Wrong value for " + k, true
			}
		}
		if ptype != "inbound" && ptype != "outbound" || ptyp2 != "customer" && ptyp2 != "supplier" {
			return nil, "builtins.ValueError", "Wrong value for account.payment.payment_type/partner_type", true
		}
		if _, ok := fakePartners[p.partner]; !ok && p.partner != 0 {
			return nil, "odoo.exceptions.ValidationError", "The operation cannot be completed: another model requires the record being deleted.", true
		}
		if _, ok := f.journal[p.journal]; !ok {
			return nil, "odoo.exceptions.ValidationError", "The selected payment method is not available for this payment.", true
		}
		if p.amount.Sign() < 0 {
			return nil, "odoo.exceptions.ValidationError", "The payment amount cannot be negative.", true
		}
		f.nextID++
		p.id = f.nextID
		f.pays = append(f.pays, p)
		return p.id, "", "", true
	case "account.payment.action_post":
		for _, id := range ids() {
			p := f.findPayment(id)
			if p == nil {
				return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted.", true
			}
			if p.state != "draft" {
				return nil, "odoo.exceptions.UserError", "Only a draft payment can be posted.", true
			}
			if locked(p.date) {
				return nil, "odoo.exceptions.UserError", lockMsg, true
			}
			p.state = "posted"
			if f.major >= 18 { // not reconciled with anything yet
				p.state = "in_process"
			}
		}
		return true, "", "", true

	case "account.move.create":
		var vals map[string]json.RawMessage
		if err := json.Unmarshal(args[0], &vals); err != nil {
			return nil, "builtins.TypeError", "create() expects a dict of values", true
		}
		e := &fakeEntry{state: "draft"}
		var moveType string
		for k, v := range vals {
			var err error
			switch k {
			case "move_type":
				err = json.Unmarshal(v, &moveType)
			case "journal_id":
				err = json.Unmarshal(v, &e.journal)
			case "date":
				err = json.Unmarshal(v, &e.date)
			case "ref":
				err = json.Unmarshal(v, &e.ref)
			case "line_ids":
				var cmds [][]json.RawMessage
				if err = json.Unmarshal(v, &cmds); err != nil {
					break
				}
				for _, cmd := range cmds {
					var op int
					var lv map[string]json.RawMessage
					_ = json.Unmarshal(cmd[0], &op)
					if op != 0 || len(cmd) != 3 || json.Unmarshal(cmd[2], &lv) != nil {
						return nil, "builtins.ValueError", "only (0, 0, vals) commands are faked on account.move.create", true
					}
					var l fakeEntryLine
					for lk, lval := range lv {
						switch lk {
						case "account_id":
							_ = json.Unmarshal(lval, &l.account)
						case "partner_id":
							_ = json.Unmarshal(lval, &l.partner)
						case "name":
							_ = json.Unmarshal(lval, &l.name)
						case "balance":
							var n json.Number
							if json.Unmarshal(lval, &n) != nil {
								return nil, "builtins.ValueError", "Wrong value for balance", true
							}
							l.balance = matcher.MustAmount(n.String())
						default:
							return nil, "builtins.ValueError", "Invalid field '" + lk + "' on model 'account.move.line'", true
						}
					}
					if l.account == 0 {
						return nil, "odoo.exceptions.ValidationError", "Missing required field: Account", true
					}
					e.lines = append(e.lines, l)
				}
			default:
				return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.move'", true
			}
			if err != nil {
				return nil, "builtins.ValueError", "Wrong value for " + k, true
			}
		}
		if moveType != "entry" {
			return nil, "builtins.ValueError", "only journal entries are faked on account.move.create", true
		}
		if _, ok := f.journal[e.journal]; !ok {
			return nil, "odoo.exceptions.ValidationError", "Missing required field: Journal", true
		}
		var sum matcher.Amount
		for _, l := range e.lines {
			sum = sum.Add(l.balance)
		}
		if !sum.IsZero() {
			return nil, "odoo.exceptions.UserError", "The move is not balanced: " + sum.String(), true
		}
		f.nextID++
		e.id = f.nextID
		f.entries = append(f.entries, e)
		return e.id, "", "", true
	case "account.move.action_post", "account.move.button_draft", "account.move.button_cancel", "account.move.write":
		var es []*fakeEntry
		for _, id := range ids() {
			e := f.findEntry(id)
			if e == nil {
				if method == "write" {
					return nil, "", "", false // a statement line's entry
				}
				return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted.", true
			}
			es = append(es, e)
		}
		for _, e := range es {
			switch method {
			case "action_post":
				if e.state != "draft" {
					return nil, "odoo.exceptions.UserError", "The entry " + e.ref + " is already posted.", true
				}
				if locked(e.date) {
					return nil, "odoo.exceptions.UserError", lockMsg, true
				}
				e.state = "posted"
			case "button_draft":
				if e.state == "draft" {
					return nil, "odoo.exceptions.UserError", "Only posted/cancelled journal entries can be reset to draft.", true
				}
				if locked(e.date) {
					return nil, "odoo.exceptions.UserError", lockMsg, true
				}
				e.state = "draft"
			case "button_cancel":
				if e.state != "draft" {
					return nil, "odoo.exceptions.UserError", "Only draft journal entries can be cancelled.", true
				}
				e.state = "cancel"
			case "write":
				var vals map[string]json.RawMessage
				_ = json.Unmarshal(args[1], &vals)
				for k, v := range vals {
					if k != "ref" {
						return nil, "builtins.ValueError", "only ref is faked on account.move.write of an entry", true
					}
					_ = json.Unmarshal(v, &e.ref)
				}
			}
		}
		return true, "", "", true
	}
	return nil, "", "", false
}

// postingsText lists the payments created directly and the journal
// entries: "memo=amount>partner:state" and "ref=debit-account/credit-account:amount:state".
func (f *fakeOdoo) postingsText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, p := range f.pays {
		if p.move == 0 {
			out = append(out, fmt.Sprintf("pay[%s]=%s>%d:%s", p.memo, p.amount, p.partner, p.state))
		}
	}
	for _, e := range f.entries {
		var parts []string
		for _, l := range e.lines {
			parts = append(parts, fmt.Sprintf("%d:%s", l.account, l.balance))
		}
		out = append(out, fmt.Sprintf("entry[%s]=%s:%s", e.ref, strings.Join(parts, ","), e.state))
	}
	return strings.Join(out, " ")
}
