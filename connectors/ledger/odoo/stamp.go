package odoo

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
)

var _ connectors.OpenItemsStamper = (*Client)(nil)

// DefaultStampQuiet is how long before a stamp the last write to the
// records OpenItems reads must be for OpenItemsStamp to stamp: see there.
const DefaultStampQuiet = time.Hour

// stampModels are the models OpenItems reads, each with the domain the
// stamp aggregates: the open invoices themselves, and every partner
// (their names, through partner_id's display name), bank account (the
// IBANs) and currency (its code), archived ones included.
func stampModels() []struct {
	model  string
	domain []any
} {
	return []struct {
		model  string
		domain []any
	}{
		{"account.move", openDomain()},
		{"res.partner", []any{}},
		{"res.partner.bank", []any{}},
		{"res.currency", []any{}},
	}
}

// OpenItemsStamp implements connectors.OpenItemsStamper: for each model
// OpenItems reads (stampModels), one read_group call aggregates its
// records — how many, the sum of their ids, their latest write_date —
// on the server; only those numbers cross the network.
//
// Odoo's ORM sets write_date on every write, stored computed fields
// included (amount_residual and payment_state when a payment is
// reconciled, a partner's complete_name when its company is renamed):
// an invoice created, posted, paid in part or in full, reset to draft or
// cancelled moves its count, ids or write_date; deleting one moves the
// count and the ids; so does a partner renamed, a bank account added,
// changed, archived or deleted, a currency renamed.
//
// write_date is the start of the writing transaction, to the second: a
// change committed by a transaction that began before an earlier stamp
// was taken could carry a write_date no later than that stamp's, and go
// unseen. So the stamp is "" (the items are read) while the latest
// write_date of any of these models is less than stampQuiet
// (DefaultStampQuiet) before this machine's clock: a change goes unseen
// only if its transaction lasted longer than that (Odoo's workers are
// killed after limit_time_real, 120 s by default), or if the clocks of
// Odoo's database and this machine differ by more. Writes that bypass the
// ORM (SQL run on the database) are not seen.
func (c *Client) OpenItemsStamp(ctx context.Context) (string, error) {
	if err := c.setup(ctx); err != nil {
		return "", fmt.Errorf("stamping open items: %w", err)
	}
	var b strings.Builder
	b.WriteString("odoo-v1")
	quietSince := time.Now().UTC().Add(-c.stampQuiet)
	for _, m := range stampModels() {
		var rows []struct {
			Count int             `json:"__count"`
			IDs   json.RawMessage `json:"ids"`
			Last  Text            `json:"last"`
		}
		if err := c.execute(ctx, &rows, read, m.model, "read_group",
			[]any{m.domain, []string{"ids:sum(id)", "last:max(write_date)"}, []string{}},
			map[string]any{"lazy": false, "context": map[string]any{"active_test": false}}); err != nil {
			return "", fmt.Errorf("stamping open items: aggregating %s: %w", m.model, err)
		}
		if len(rows) != 1 {
			return "", fmt.Errorf("stamping open items: aggregating %s: %d groups, want 1", m.model, len(rows))
		}
		r := rows[0]
		ids := strings.TrimSpace(string(r.IDs))
		if ids == "false" || ids == "null" {
			ids = "0"
		}
		if _, err := strconv.ParseInt(ids, 10, 64); err != nil {
			return "", fmt.Errorf("stamping open items: aggregating %s: the sum of ids is %s", m.model, ids)
		}
		if r.Last != "" {
			last, err := time.Parse(time.DateTime, string(r.Last))
			if err != nil {
				return "", fmt.Errorf("stamping open items: aggregating %s: %w", m.model, err)
			}
			if !last.Before(quietSince) {
				return "", nil // written lately: the items are read
			}
		}
		fmt.Fprintf(&b, "|%s=%d,%s,%s", m.model, r.Count, ids, r.Last)
	}
	return b.String(), nil
}

// OpenItemsLasting implements connectors.OpenItemsStamper: the clock
// decides none of the items OpenItems reads.
func (c *Client) OpenItemsLasting() bool { return true }
