package tryton

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

var _ connectors.OpenItemsStamper = (*Client)(nil)

// DefaultStampQuiet is how long before a stamp the last write to the
// records OpenItems reads must be for OpenItemsStamp to stamp: see there.
const DefaultStampQuiet = time.Hour

// Datetime is a Tryton DateTime on the wire: {"__class__": "datetime",
// "year": 2026, …, "microsecond": 0}, naive UTC. Null is the zero time.
type Datetime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Datetime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Datetime{}
		return nil
	}
	var v struct {
		Class                                  string `json:"__class__"`
		Year, Month, Day, Hour, Minute, Second int
		Microsecond                            int `json:"microsecond"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding Tryton datetime %.80s: %w", b, err)
	}
	if v.Class != "datetime" || v.Month < 1 || v.Month > 12 || v.Day < 1 || v.Day > 31 {
		return fmt.Errorf("decoding Tryton datetime %.80s: %w", b, ErrProtocol)
	}
	d.Time = time.Date(v.Year, time.Month(v.Month), v.Day, v.Hour, v.Minute, v.Second, v.Microsecond*1000, time.UTC)
	return nil
}

// stampModel is a model OpenItems' answer depends on, with the domain the
// stamp aggregates.
type stampModel struct {
	model  string
	domain []any
}

// stampModels are the models OpenItems' answer depends on: the customer
// invoices of the company, whatever their state (those posted are the
// open items; posting, cancelling one, adding or removing a payment line
// — the relation account.invoice-account.move.line, which Tryton does not
// serve over RPC — writes it); the move lines (the invoices' lines to pay
// and payment lines: their reconciliation, maturity date, amounts); the
// reconciliations (deleting one empties the lines' reconciliation field);
// the parties (their name is the customer's); the currencies (their code)
// and their rates (amount_to_pay converts the lines in the company's
// currency at the invoice's currency date). Every record of the last five,
// the other companies' included: a change there moves the stamp for
// nothing, never the reverse.
func (c *Client) stampModels() []stampModel {
	return []stampModel{
		{"account.invoice", []any{[]any{"type", "=", "out"}, []any{"company", "=", c.companyID}}},
		{"account.move.line", []any{}},
		{"account.move.reconciliation", []any{}},
		{"party.party", []any{}},
		{"currency.currency", []any{}},
		{"currency.currency.rate", []any{}},
	}
}

// OpenItemsStamp implements connectors.OpenItemsStamper. Tryton offers no
// aggregate over RPC, so for each model OpenItems' answer depends on
// (stampModels) four calls return how many records there are
// (search_count), the highest id, the latest create_date and the latest
// write_date (search_read ordered, one row); only those cross the network.
//
// amount_to_pay is not stored: Tryton computes it from the invoice's
// lines to pay and payment lines, whether they are reconciled, and the
// currency's rates. Tryton's ModelSQL sets create_date on a record's
// creation and write_date on every write through the ORM (write_date stays
// empty until the first): an invoice created, posted or cancelled writes
// the invoice; paying one, in Tryton or by Apply, creates move lines and
// a reconciliation and writes the lines' reconciliation field; a payment
// line added to an invoice writes the invoice; deleting a
// reconciliation or a record moves the count (and, with a creation at once,
// the highest id); a party renamed, a currency renamed or a rate added,
// changed or deleted moves its model's part.
//
// create_date and write_date are the start of the writing transaction: a
// change committed by a transaction that began before an earlier stamp was
// taken could carry dates no later than that stamp's, and go unseen. So
// the stamp is "" (the items are read) while the latest date of any of
// these models is less than stampQuiet (DefaultStampQuiet) before this
// machine's clock: a change goes unseen only if its transaction lasted
// longer than that, or if the clocks of Tryton's database and this machine
// differ by more. Writes that bypass the ORM (SQL run on the database) are
// not seen, and neither is a module that computes a field differently.
func (c *Client) OpenItemsStamp(ctx context.Context) (string, error) {
	if err := c.setup(ctx); err != nil {
		return "", fmt.Errorf("stamping open items: %w", err)
	}
	var b strings.Builder
	b.WriteString("tryton-v1")
	quietSince := time.Now().UTC().Add(-c.stampQuiet)
	for _, m := range c.stampModels() {
		part, last, err := c.stampPart(ctx, m)
		if err != nil {
			return "", fmt.Errorf("stamping open items: %w", err)
		}
		if !last.Before(quietSince) {
			return "", nil // written lately: the items are read
		}
		b.WriteString("|")
		b.WriteString(part)
	}
	return b.String(), nil
}

// stampPart is one model's part of the stamp, "model=count,max id,latest
// create_date,latest write_date", and the latest of the two dates.
func (c *Client) stampPart(ctx context.Context, m stampModel) (string, time.Time, error) {
	var count int
	if err := c.rpc.call(ctx, &count, read, "model."+m.model+".search_count", m.domain); err != nil {
		return "", time.Time{}, fmt.Errorf("counting %s: %w", m.model, err)
	}
	// The highest id, the latest create_date, the latest write_date: one
	// row each, ordered. write_date is empty until a record's first
	// write: those are left out, wherever the database sorts its nulls.
	var top [3]struct {
		ID      int      `json:"id"`
		Created Datetime `json:"create_date"`
		Written Datetime `json:"write_date"`
	}
	for i, q := range []struct {
		field string
		cond  []any
	}{
		{"id", nil},
		{"create_date", nil},
		{"write_date", []any{"write_date", "!=", nil}},
	} {
		dom := m.domain
		if q.cond != nil {
			dom = append(append([]any{}, m.domain...), q.cond)
		}
		var rows []json.RawMessage
		if err := c.rpc.call(ctx, &rows, read, "model."+m.model+".search_read", dom, 0, 1,
			[][]string{{q.field, "DESC"}, {"id", "DESC"}}, []string{"id", q.field}); err != nil {
			return "", time.Time{}, fmt.Errorf("finding the latest %s of %s: %w", q.field, m.model, err)
		}
		if len(rows) > 1 {
			return "", time.Time{}, fmt.Errorf("finding the latest %s of %s: %d rows for a limit of 1: %w", q.field, m.model, len(rows), ErrProtocol)
		}
		if len(rows) == 1 {
			if err := json.Unmarshal(rows[0], &top[i]); err != nil {
				return "", time.Time{}, fmt.Errorf("finding the latest %s of %s: %w", q.field, m.model, err)
			}
		}
	}
	created, written := top[1].Created.Time, top[2].Written.Time
	if count > 0 && (top[0].ID == 0 || created.IsZero()) {
		return "", time.Time{}, fmt.Errorf("stamping %s: %d records but no id or create_date: %w", m.model, count, ErrProtocol)
	}
	last := created
	if written.After(last) {
		last = written
	}
	return fmt.Sprintf("%s=%d,%d,%s,%s", m.model, count, top[0].ID, stampTime(created), stampTime(written)), last, nil
}

func stampTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05.999999")
}

// OpenItemsLasting implements connectors.OpenItemsStamper: the clock
// decides none of the items OpenItems reads (amount_to_pay converts at the
// invoice's currency date, not today's).
func (c *Client) OpenItemsLasting() bool { return true }
