package odoo

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/lettrage/lettrage/matcher"
)

// Accounts of the fake company.
const (
	fakeBankAcc     = 10  // the bank journal's default (liquidity) account
	fakeSuspenseAcc = 20  // the bank journal's suspense_account_id
	fakeRecvAcc     = 400 // 121000 Account Receivable
	fakeRecvLine    = 100000
)

// fakeStLine is an account.bank.statement.line (Odoo 16+: _inherits
// account.move; its journal entry is posted on create with a liquidity
// item and a suspense item).
type fakeStLine struct {
	id, move, journal int
	ref               string
	amount            matcher.Amount
	date              string
	partner           int
	partnerName, acct string
	lines             []*fakeML
}

// fakeML is an item of a statement line's journal entry.
type fakeML struct {
	id, move, account, partner int
	name                       string
	balance                    matcher.Amount
	reconciled                 bool
	recInv                     int
	recAmt                     matcher.Amount
}

func (f *fakeOdoo) setPayState(m *fakeMove) {
	switch {
	case m.residual.Sign() <= 0:
		m.residual, m.payState = matcher.Amount{}, "paid"
	case m.residual.Cmp(m.total) == 0:
		m.payState = "not_paid"
	default:
		m.payState = "partial"
	}
}

// isReconciled is Odoo's is_reconciled (_compute_is_reconciled): nothing
// left on the journal's suspense account.
func (l *fakeStLine) isReconciled() bool {
	for _, ml := range l.lines {
		if ml.account == fakeSuspenseAcc && !ml.balance.IsZero() {
			return false
		}
	}
	return true
}

func (f *fakeOdoo) resetStLine(l *fakeStLine) {
	f.nextLine += 2
	l.lines = []*fakeML{
		{id: f.nextLine - 1, move: l.move, account: fakeBankAcc, partner: l.partner, name: l.ref, balance: l.amount},
		{id: f.nextLine, move: l.move, account: fakeSuspenseAcc, partner: l.partner, name: l.ref, balance: l.amount.Neg()},
	}
}

func m2o(id int, name string) any {
	if id == 0 {
		return false
	}
	return []any{id, name}
}

func accountType(acc int) string {
	switch acc {
	case fakeRecvAcc:
		return "asset_receivable"
	case fakeBankAcc:
		return "asset_cash"
	}
	return "asset_current"
}

// moveLines returns every journal item the fake knows: the invoices'
// receivable items and the statement lines' items.
func (f *fakeOdoo) moveLines() []map[string]any {
	var out []map[string]any
	ids := make([]int, 0, len(f.moves))
	for id := range f.moves {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		m := f.moves[id]
		if m.state != "posted" || m.moveType != "out_invoice" {
			continue
		}
		out = append(out, map[string]any{"id": fakeRecvLine + id, "move_id": []any{id, m.name}, "account_id": []any{fakeRecvAcc, "121000"},
			"partner_id": m2o(m.partner, m.partnerName), "name": m.name, "balance": pyFloat(m.total), "reconciled": m.residual.IsZero(),
			"account_type": "asset_receivable", "journal_id": []any{1, "Customer Invoices"}})
	}
	for _, l := range f.stLines {
		for _, ml := range l.lines {
			out = append(out, map[string]any{"id": ml.id, "move_id": []any{ml.move, "BNK1/" + fmt.Sprint(ml.move)},
				"account_id": []any{ml.account, fmt.Sprint(ml.account)}, "partner_id": m2o(ml.partner, "p"), "name": odooStr(ml.name),
				"balance": pyFloat(ml.balance), "reconciled": ml.reconciled, "account_type": accountType(ml.account),
				"journal_id": []any{l.journal, "Bank"}})
		}
	}
	return out
}

func (f *fakeOdoo) stLineRec(l *fakeStLine) map[string]any {
	return map[string]any{"id": l.id, "payment_ref": odooStr(l.ref), "amount": pyFloat(l.amount), "move_id": []any{l.move, "BNK1/" + fmt.Sprint(l.move)},
		"is_reconciled": l.isReconciled(), "journal_id": []any{l.journal, "Bank"}, "date": l.date, "partner_id": m2o(l.partner, "p"),
		"partner_name": odooStr(l.partnerName), "account_number": odooStr(l.acct)}
}

func (f *fakeOdoo) findPayment(id int) *fakePayment {
	for i := range f.pays {
		if f.pays[i].id == id {
			return &f.pays[i]
		}
	}
	return nil
}

// executeMore runs the models of bank reconciliation and payment reversal.
func (f *fakeOdoo) executeMore(model, method string, args []json.RawMessage, kwargs map[string]json.RawMessage,
	fields []string, domain []json.RawMessage) (res any, name, msg string) {
	ids := func() []int {
		var ids []int
		if len(args) > 0 {
			_ = json.Unmarshal(args[0], &ids)
		}
		return ids
	}
	if res, name, msg, ok := f.executePostings(model, method, args, kwargs, fields, domain); ok {
		return res, name, msg
	}
	switch model + "." + method {
	case "account.journal.read":
		var out []map[string]any
		for _, id := range ids() {
			if _, ok := f.journal[id]; ok {
				rec := map[string]any{"id": id, "suspense_account_id": []any{fakeSuspenseAcc, "Bank Suspense Account"},
					"currency_id": false, "company_id": []any{1, "My Company"}, "inbound_payment_method_line_ids": []int{id + 50}}
				if bad := unknownField(fields, rec); bad != "" {
					return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.journal"
				}
				out = append(out, project(rec, fields))
			}
		}
		return out, "", ""
	case "res.company.read":
		rec := map[string]any{"id": 1, "currency_id": []any{1, "EUR"}}
		if f.major <= 17 { // a company field up to 17; a chart template reference from 18
			rec["account_journal_payment_debit_account_id"] = []any{fakeOutstandingAcc, "Outstanding Receipts"}
		}
		if bad := unknownField(fields, rec); bad != "" {
			return nil, "builtins.ValueError", "Invalid field " + bad + " on model res.company"
		}
		return []map[string]any{project(rec, fields)}, "", ""

	case "account.bank.statement.line.create":
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(args[0], &list); err != nil {
			var one map[string]json.RawMessage
			if err := json.Unmarshal(args[0], &one); err != nil {
				return nil, "builtins.TypeError", "create() expects a dict or a list of dicts"
			}
			list = append(list, one)
		}
		var created []*fakeStLine
		for _, vals := range list {
			l := &fakeStLine{}
			for k, v := range vals {
				var err error
				switch k {
				case "journal_id":
					err = json.Unmarshal(v, &l.journal)
				case "date":
					err = json.Unmarshal(v, &l.date)
				case "payment_ref":
					err = json.Unmarshal(v, &l.ref)
				case "partner_id":
					err = json.Unmarshal(v, &l.partner)
				case "partner_name":
					err = json.Unmarshal(v, &l.partnerName)
				case "account_number":
					err = json.Unmarshal(v, &l.acct)
				case "amount":
					var n json.Number
					if err = json.Unmarshal(v, &n); err == nil {
						l.amount, err = matcher.ParseAmount(n.String())
					}
				default:
					return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.bank.statement.line'"
				}
				if err != nil {
					return nil, "builtins.ValueError", "Wrong value for " + k
				}
			}
			if _, ok := f.journal[l.journal]; !ok {
				return nil, "odoo.exceptions.ValidationError", "Missing required field: Journal"
			}
			if l.date == "" {
				return nil, "odoo.exceptions.ValidationError", "Missing required field: Date"
			}
			if f.lockDate != "" && l.date <= f.lockDate {
				return nil, "odoo.exceptions.UserError", "You cannot add/modify entries prior to and inclusive of the lock date " + f.lockDate + "."
			}
			created = append(created, l)
		}
		var out []int
		for _, l := range created { // one transaction: all or none
			f.nextID += 2
			l.id, l.move = f.nextID-1, f.nextID
			f.resetStLine(l)
			f.stLines = append(f.stLines, l)
			out = append(out, l.id)
		}
		return out, "", ""
	case "account.bank.statement.line.search_read":
		tmpl := f.stLineRec(&fakeStLine{})
		if bad := unknownField(fields, tmpl); bad != "" {
			return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.bank.statement.line"
		}
		out := []map[string]any{}
		for _, l := range f.stLines {
			rec := f.stLineRec(l)
			m, err := f.match(domain, rec)
			if err != "" {
				return nil, "builtins.ValueError", err
			}
			if m {
				out = append(out, project(rec, fields))
			}
		}
		return out, "", ""
	case "account.bank.statement.line.write":
		var vals map[string]json.RawMessage
		_ = json.Unmarshal(args[1], &vals)
		for _, id := range ids() {
			for _, l := range f.stLines {
				if l.id != id {
					continue
				}
				for k, v := range vals {
					if k != "payment_ref" {
						return nil, "builtins.ValueError", "unexpected field " + k
					}
					_ = json.Unmarshal(v, &l.ref)
				}
			}
		}
		return true, "", ""
	case "account.bank.statement.line.action_undo_reconciliation":
		for _, id := range ids() {
			for _, l := range f.stLines {
				if l.id != id {
					continue
				}
				for _, ml := range l.lines {
					if ml.recInv != 0 {
						inv := f.moves[ml.recInv]
						inv.residual = inv.residual.Add(ml.recAmt)
						f.setPayState(inv)
					}
				}
				f.resetStLine(l)
			}
		}
		return true, "", ""

	case "account.move.line.search_read", "account.move.line.search":
		var out []map[string]any
		var outIDs []int
		for _, rec := range f.moveLines() {
			if bad := unknownField(fields, rec); bad != "" {
				return nil, "builtins.ValueError", "Invalid field " + bad + " on model account.move.line"
			}
			m, err := f.match(domain, rec)
			if err != "" {
				return nil, "builtins.ValueError", err
			}
			if m {
				out = append(out, project(rec, fields))
				outIDs = append(outIDs, rec["id"].(int))
			}
		}
		if method == "search" {
			if outIDs == nil {
				outIDs = []int{}
			}
			return outIDs, "", ""
		}
		if out == nil {
			out = []map[string]any{}
		}
		return out, "", ""
	case "account.move.line.reconcile":
		var counter *fakeML
		inv := 0
		for _, id := range ids() {
			if id > fakeRecvLine {
				inv = id - fakeRecvLine
				continue
			}
			for _, l := range f.stLines {
				for _, ml := range l.lines {
					if ml.id == id {
						counter = ml
					}
				}
			}
		}
		m := f.moves[inv]
		if counter == nil || m == nil {
			return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."
		}
		if counter.account != fakeRecvAcc {
			return nil, "odoo.exceptions.UserError", "Entries are not from the same account."
		}
		if counter.reconciled || m.residual.IsZero() {
			return nil, "odoo.exceptions.UserError", "You are trying to reconcile some entries that are already reconciled."
		}
		credit := counter.balance.Neg()
		settle := credit
		if settle.Cmp(m.residual) > 0 {
			settle = m.residual
		}
		m.residual = m.residual.Sub(settle)
		f.setPayState(m)
		counter.recInv, counter.recAmt = inv, settle
		counter.reconciled = settle.Cmp(credit) == 0
		return true, "", ""
	case "account.move.write":
		var vals map[string]json.RawMessage
		_ = json.Unmarshal(args[1], &vals)
		var cmds [][]json.RawMessage
		if err := json.Unmarshal(vals["line_ids"], &cmds); err != nil || len(vals) != 1 {
			return nil, "builtins.ValueError", "only line_ids commands are faked on account.move.write"
		}
		for _, id := range ids() {
			var l *fakeStLine
			for _, x := range f.stLines {
				if x.move == id {
					l = x
				}
			}
			if l == nil {
				return nil, "odoo.exceptions.UserError", "not a statement line's entry"
			}
			if f.lockDate != "" && l.date <= f.lockDate {
				return nil, "odoo.exceptions.UserError", "You cannot add/modify entries prior to and inclusive of the lock date " + f.lockDate + "."
			}
			lines := append([]*fakeML{}, l.lines...)
			var copies []*fakeML
			for _, ml := range lines {
				c := *ml
				copies = append(copies, &c)
			}
			lines = copies
			for _, cmd := range cmds {
				var op, lid int
				_ = json.Unmarshal(cmd[0], &op)
				_ = json.Unmarshal(cmd[1], &lid)
				var lv map[string]json.RawMessage
				if len(cmd) > 2 {
					_ = json.Unmarshal(cmd[2], &lv)
				}
				target := (*fakeML)(nil)
				idx := -1
				for i, ml := range lines {
					if ml.id == lid {
						target, idx = ml, i
					}
				}
				switch op {
				case 0:
					f.nextLine++
					target = &fakeML{id: f.nextLine, move: l.move}
					lines = append(lines, target)
				case 1, 2:
					if target == nil {
						return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."
					}
					if op == 2 {
						lines = append(lines[:idx], lines[idx+1:]...)
						continue
					}
				default:
					return nil, "builtins.ValueError", "unsupported command"
				}
				for k, v := range lv {
					switch k {
					case "account_id":
						_ = json.Unmarshal(v, &target.account)
					case "partner_id":
						if string(v) != "false" {
							_ = json.Unmarshal(v, &target.partner)
						} else {
							target.partner = 0
						}
					case "name":
						_ = json.Unmarshal(v, &target.name)
					case "balance":
						var n json.Number
						_ = json.Unmarshal(v, &n)
						target.balance = matcher.MustAmount(n.String())
					default:
						return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.move.line'"
					}
				}
			}
			var sum matcher.Amount
			liquidity := 0
			for _, ml := range lines {
				sum = sum.Add(ml.balance)
				if ml.account == fakeBankAcc {
					liquidity++
				}
			}
			if !sum.IsZero() {
				return nil, "odoo.exceptions.UserError", "The move is not balanced: " + sum.String()
			}
			if liquidity != 1 {
				return nil, "odoo.exceptions.UserError", "The journal entry reached an invalid state regarding its related statement line."
			}
			l.lines = lines
		}
		return true, "", ""

	case "account.payment.action_draft", "account.payment.action_cancel":
		for _, id := range ids() {
			p := f.findPayment(id)
			if p == nil {
				return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."
			}
			if method == "action_draft" {
				if p.state == "draft" {
					return nil, "odoo.exceptions.UserError", "Only posted/cancelled journal entries can be reset to draft."
				}
				if f.lockDate != "" && p.date <= f.lockDate {
					return nil, "odoo.exceptions.UserError", "You cannot modify entries prior to and inclusive of the lock date " + f.lockDate + "."
				}
				if !p.settled.IsZero() { // button_draft removes the reconciliation
					m := f.moves[p.move]
					m.residual = m.residual.Add(p.settled)
					f.setPayState(m)
					p.settled = matcher.Amount{}
				}
				p.state = "draft"
				continue
			}
			if p.state != "draft" {
				return nil, "odoo.exceptions.UserError", "Only draft journal entries can be cancelled."
			}
			p.state = "cancel"
			if f.major >= 18 {
				p.state = "canceled"
			}
		}
		return true, "", ""
	case "account.payment.write":
		var vals map[string]json.RawMessage
		_ = json.Unmarshal(args[1], &vals)
		for _, id := range ids() {
			p := f.findPayment(id)
			if p == nil {
				return nil, "odoo.exceptions.MissingError", "Record does not exist or has been deleted."
			}
			for k, v := range vals {
				if k != f.memoField() {
					return nil, "builtins.ValueError", "Invalid field '" + k + "' on model 'account.payment'"
				}
				_ = json.Unmarshal(v, &p.memo)
			}
		}
		return true, "", ""
	}
	return nil, "builtins.AttributeError", fmt.Sprintf("The method '%s.%s' does not exist", model, method)
}
