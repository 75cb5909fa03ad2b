package testenv

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// OdooInvoice is one customer invoice (or credit note) for Invoices: one
// line of Amount, without tax.
type OdooInvoice struct {
	Partner   string // the customer's name; created when new
	Amount    string // decimal text
	Reference string // payment_reference; empty: Odoo's own (the number)
	Date      time.Time
	Due       time.Time // zero: the invoice date
	Currency  string    // ISO code; empty: the company's (EUR)
	Refund    bool      // a credit note (out_refund)
	Draft     bool      // left in draft
}

// odooPartners caches partner ids by database and name.
var odooPartners sync.Map // "db\x00name" → int

// Partner returns the id of the customer named name, creating it (with
// the bank accounts ibans) when the database has none of that name.
func (db *OdooDB) Partner(name string, ibans ...string) (int, error) {
	if id, ok := odooPartners.Load(db.Name + "\x00" + name); ok {
		return id.(int), nil
	}
	var ids []int
	if err := db.Call(&ids, "res.partner", "search", []any{[]any{[]any{"name", "=", name}}}, nil); err != nil {
		return 0, fmt.Errorf("finding partner %q: %w", name, err)
	}
	if len(ids) == 0 {
		var banks []any
		for _, iban := range ibans {
			banks = append(banks, []any{0, 0, map[string]any{"acc_number": iban}})
		}
		var id int
		if err := db.Call(&id, "res.partner", "create", []any{map[string]any{"name": name, "is_company": true,
			"customer_rank": 1, "bank_ids": banks}}, nil); err != nil {
			return 0, fmt.Errorf("creating partner %q: %w", name, err)
		}
		ids = []int{id}
	}
	odooPartners.Store(db.Name+"\x00"+name, ids[0])
	return ids[0], nil
}

// Currency returns the id of the currency code, activating it (with a
// rate against the company's currency on 2026-01-01) when it is not
// active.
func (db *OdooDB) Currency(code string) (int, error) {
	var rows []struct {
		ID     int  `json:"id"`
		Active bool `json:"active"`
	}
	if err := db.Call(&rows, "res.currency", "search_read", []any{[]any{[]any{"name", "=", code}}},
		map[string]any{"fields": []string{"active"}, "context": map[string]any{"active_test": false}}); err != nil || len(rows) != 1 {
		return 0, fmt.Errorf("finding currency %s: %v (%d found)", code, err, len(rows))
	}
	if !rows[0].Active {
		if err := db.Call(nil, "res.currency", "write", []any{[]int{rows[0].ID}, map[string]any{"active": true}}, nil); err != nil {
			return 0, fmt.Errorf("activating %s: %w", code, err)
		}
		if err := db.Call(nil, "res.currency.rate", "create", []any{map[string]any{"currency_id": rows[0].ID,
			"name": "2026-01-01", "rate": json.Number("1.08")}}, nil); err != nil {
			return 0, fmt.Errorf("giving %s a rate: %w", code, err)
		}
	}
	return rows[0].ID, nil
}

// Invoices creates the invoices and posts those not Draft, in one create
// and one post; it returns their ids in order. New customers are created
// first, in one call.
func (db *OdooDB) Invoices(invs ...OdooInvoice) ([]int, error) {
	if err := db.partners(invs); err != nil {
		return nil, err
	}
	var all []any
	for _, inv := range invs {
		pid, err := db.Partner(inv.Partner)
		if err != nil {
			return nil, err
		}
		date := inv.Date
		if date.IsZero() {
			date = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		}
		due := inv.Due
		if due.IsZero() {
			due = date
		}
		vals := map[string]any{
			"move_type":        "out_invoice",
			"partner_id":       pid,
			"invoice_date":     date.Format(time.DateOnly),
			"invoice_date_due": due.Format(time.DateOnly),
			"invoice_line_ids": []any{[]any{0, 0, map[string]any{"name": "Services", "quantity": 1,
				"price_unit": json.Number(inv.Amount), "tax_ids": []any{[]any{6, 0, []int{}}}}}},
		}
		if inv.Refund {
			vals["move_type"] = "out_refund"
		}
		if inv.Reference != "" {
			vals["payment_reference"] = inv.Reference
		}
		if inv.Currency != "" {
			cid, err := db.Currency(inv.Currency)
			if err != nil {
				return nil, err
			}
			vals["currency_id"] = cid
		}
		all = append(all, vals)
	}
	if len(all) == 0 {
		return nil, nil
	}
	var ids []int
	if err := db.Call(&ids, "account.move", "create", []any{all}, nil); err != nil {
		return nil, fmt.Errorf("creating %d invoices: %w", len(all), err)
	}
	if len(ids) != len(all) {
		return nil, fmt.Errorf("creating %d invoices: %d ids back", len(all), len(ids))
	}
	var post []int
	for i, inv := range invs {
		if !inv.Draft {
			post = append(post, ids[i])
		}
	}
	if len(post) > 0 {
		if err := db.Call(nil, "account.move", "action_post", []any{post}, nil); err != nil {
			return nil, fmt.Errorf("posting %d invoices: %w", len(post), err)
		}
	}
	return ids, nil
}

// partners creates, in one call, the customers of invs not known yet.
func (db *OdooDB) partners(invs []OdooInvoice) error {
	var names []string
	seen := map[string]bool{}
	for _, inv := range invs {
		if _, ok := odooPartners.Load(db.Name + "\x00" + inv.Partner); !ok && !seen[inv.Partner] {
			seen[inv.Partner] = true
			names = append(names, inv.Partner)
		}
	}
	if len(names) == 0 {
		return nil
	}
	var found []struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
	}
	if err := db.Call(&found, "res.partner", "search_read", []any{[]any{[]any{"name", "in", names}}},
		map[string]any{"fields": []string{"name"}}); err != nil {
		return fmt.Errorf("finding partners: %w", err)
	}
	for _, p := range found {
		odooPartners.Store(db.Name+"\x00"+p.Name, p.ID)
		delete(seen, p.Name)
	}
	var vals []any
	var create []string
	for _, n := range names {
		if seen[n] {
			create = append(create, n)
			vals = append(vals, map[string]any{"name": n, "is_company": true, "customer_rank": 1})
		}
	}
	if len(vals) == 0 {
		return nil
	}
	var ids []int
	if err := db.Call(&ids, "res.partner", "create", []any{vals}, nil); err != nil {
		return fmt.Errorf("creating %d partners: %w", len(vals), err)
	}
	for i, id := range ids {
		odooPartners.Store(db.Name+"\x00"+create[i], id)
	}
	return nil
}

// Pay registers, as admin, a payment of amount on invoice id dated date
// (someone else paying it in Odoo).
func (db *OdooDB) Pay(id int, amount string, date time.Time) error {
	wctx := map[string]any{"active_model": "account.move", "active_ids": []int{id}}
	var wid int
	if err := db.Call(&wid, "account.payment.register", "create", []any{map[string]any{"amount": json.Number(amount),
		"payment_date": date.Format(time.DateOnly)}}, map[string]any{"context": wctx}); err != nil {
		return fmt.Errorf("paying invoice %d: %w", id, err)
	}
	if err := db.Call(nil, "account.payment.register", "action_create_payments", []any{[]int{wid}}, map[string]any{"context": wctx}); err != nil {
		return fmt.Errorf("paying invoice %d: %w", id, err)
	}
	return nil
}

// SetLockDate sets the lock date for non-advisers (period_lock_date) of
// the company, which binds OdooUser; an empty date removes it.
func (db *OdooDB) SetLockDate(date string) error {
	var v any = false
	if date != "" {
		v = date
	}
	if err := db.Call(nil, "res.company", "write", []any{[]int{1}, map[string]any{"period_lock_date": v}}, nil); err != nil {
		return fmt.Errorf("setting the lock date to %q: %w", date, err)
	}
	return nil
}

// SetUserGroups gives OdooUser exactly the groups named by XML id.
func (db *OdooDB) SetUserGroups(xmlids ...string) error {
	var ids []int
	for _, x := range xmlids {
		id, err := db.Ref(x)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := db.Call(nil, "res.users", "write", []any{[]int{db.UserUID}, map[string]any{"groups_id": []any{[]any{6, 0, ids}}}}, nil); err != nil {
		return fmt.Errorf("setting the groups of %s: %w", OdooUser, err)
	}
	return nil
}
