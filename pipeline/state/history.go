package state

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lettrage/lettrage/config"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

// HistoryEntry is one decision recorded for a transaction: what was
// decided, when, by which rule or whom, with which configuration, and what
// became of it in the ledger.
type HistoryEntry struct {
	Key        string
	DecidedAt  time.Time
	Decision   domain.Decision
	Items      map[string]domain.OpenItem
	State      string // record, pending, applied, rejected
	AppliedAt  string
	Actor      string
	Origin     string
	ConfigHash string
	Reverses   string // the decision an unletter undoes
}

// DeliveryNote is one file that delivered a transaction, with what the
// identity rule made of it.
type DeliveryNote struct {
	FileHash, Path, Verdict string
	SeenAt                  string
}

// History is everything the state store holds about one transaction.
type History struct {
	Tx          decide.StoredTx
	FirstSeen   string
	File        string // the file it was first read from
	Deliveries  []DeliveryNote
	Decisions   []HistoryEntry
	Customers   map[string]bool // the customers its decisions went to
	BookingDate time.Time
}

// HistoryFilter selects transactions for `lettrage history` without a
// reference: by booking date and by customer.
type HistoryFilter struct {
	From, To time.Time // booking dates, inclusive; zero: open
	Customer string    // a customer its decisions allocated or posted to
}

// History returns the history of the transaction txKey of job.
func (s *Store) History(ctx context.Context, job, txKey string) (*History, bool, error) {
	st, found, err := s.Transaction(ctx, job, txKey)
	if err != nil || !found {
		return nil, found, err
	}
	h := &History{Tx: st, Customers: map[string]bool{}, BookingDate: st.Tx.BookingDate}
	q := s.onDB()
	if err := q.QueryRowContext(ctx, `SELECT t.first_seen_at, COALESCE(f.path, '') FROM transactions t
		LEFT JOIN files f ON f.job = t.job AND f.hash = t.file_hash WHERE t.job = ? AND t.key = ?`, job, txKey).
		Scan(&h.FirstSeen, &h.File); err != nil {
		return nil, false, fmt.Errorf("reading the history of %s: %w", txKey, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT d.file_hash, COALESCE(f.path, ''), d.verdict, d.seen_at FROM deliveries d
		LEFT JOIN files f ON f.job = d.job AND f.hash = d.file_hash WHERE d.job = ? AND d.tx_key = ? ORDER BY d.seen_at, d.seq`, job, txKey)
	if err != nil {
		return nil, false, fmt.Errorf("reading the deliveries of %s: %w", txKey, err)
	}
	for rows.Next() {
		var d DeliveryNote
		if err := rows.Scan(&d.FileHash, &d.Path, &d.Verdict, &d.SeenAt); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("reading the deliveries of %s: %w", txKey, err)
		}
		h.Deliveries = append(h.Deliveries, d)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT d.key, d.data, d.items, d.decided_at, `+outboxState+`, `+outboxAt+`, d.actor, d.origin, d.config_hash, d.reverses
		FROM decisions d`+outboxJoin+` WHERE d.job = ? AND d.tx_key = ? ORDER BY d.decided_at, d.key`, job, txKey)
	if err != nil {
		return nil, false, fmt.Errorf("reading the decisions of %s: %w", txKey, err)
	}
	defer rows.Close()
	for rows.Next() {
		var e HistoryEntry
		var data, items, at string
		if err := rows.Scan(&e.Key, &data, &items, &at, &e.State, &e.AppliedAt, &e.Actor, &e.Origin, &e.ConfigHash, &e.Reverses); err != nil {
			return nil, false, fmt.Errorf("reading the decisions of %s: %w", txKey, err)
		}
		if err := json.Unmarshal([]byte(data), &e.Decision); err != nil {
			return nil, false, fmt.Errorf("decoding decision %s: %w", e.Key, err)
		}
		if items != "" && items != "null" {
			if err := json.Unmarshal([]byte(items), &e.Items); err != nil {
				return nil, false, fmt.Errorf("decoding the items of decision %s: %w", e.Key, err)
			}
		}
		e.DecidedAt, _ = time.Parse(time.RFC3339Nano, at)
		for _, a := range e.Decision.Allocations {
			if c := e.Items[a.ItemID].CustomerID; c != "" {
				h.Customers[c] = true
			}
		}
		for _, p := range e.Decision.Postings {
			if p.CustomerID != "" {
				h.Customers[p.CustomerID] = true
			}
		}
		h.Decisions = append(h.Decisions, e)
	}
	return h, true, rows.Err()
}

// Histories returns the histories of the transactions of job that the
// filter selects, by booking date then reference.
func (s *Store) Histories(ctx context.Context, job string, f HistoryFilter) ([]*History, error) {
	where, args := `WHERE job = ?`, []any{job}
	if !f.From.IsZero() {
		where, args = where+` AND booking_date >= ?`, append(args, f.From.Format(time.DateOnly))
	}
	if !f.To.IsZero() {
		where, args = where+` AND booking_date <= ?`, append(args, f.To.Format(time.DateOnly))
	}
	rows, err := s.onDB().QueryContext(ctx, `SELECT key FROM transactions `+where+` ORDER BY booking_date, ref`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing transactions: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing transactions: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	var out []*History
	for _, k := range keys {
		h, ok, err := s.History(ctx, job, k)
		if err != nil {
			return nil, err
		}
		if ok && (f.Customer == "" || h.Customers[f.Customer]) {
			out = append(out, h)
		}
	}
	return out, nil
}

// WriteHistory prints a transaction's history for people: the payment,
// the files that delivered it, then each decision — when, what, by which
// rule or whom, from which file, with which configuration, and its state
// in the ledger. IBANs are masked.
func WriteHistory(w io.Writer, h *History) {
	tx := h.Tx.Tx
	fmt.Fprintf(w, "%s on account %s: %s %s booked %s, payer %q — now %s",
		tx.Ref, decide.MaskIBAN(tx.Account), tx.Amount, tx.Currency, DateText(tx.BookingDate), tx.Counterparty.Name, h.Tx.State)
	if r := h.Tx.Decision.Reason; r != "" {
		fmt.Fprintf(w, " (%s)", r)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  %s  first read from %s\n", h.FirstSeen, orDash(h.File))
	for _, d := range h.Deliveries {
		fmt.Fprintf(w, "  %s  delivered again by %s: %s\n", d.SeenAt, orDash(d.Path), d.Verdict)
	}
	for _, e := range h.Decisions {
		d := e.Decision
		who := "rule " + orDash(d.Rule)
		if strings.HasPrefix(d.Rule, "manual:") || e.Origin != "" {
			who = fmt.Sprintf("%s by %s", d.Rule, orDash(e.Actor))
			if e.Origin != "" {
				who += " from " + e.Origin
			}
		}
		what := string(d.Outcome)
		if d.Reason != "" {
			what += " (" + d.Reason + ")"
		}
		fmt.Fprintf(w, "  %s  %s, %s, confidence %.2f, config %s, decision %s", e.DecidedAt.UTC().Format(time.RFC3339),
			what, who, d.Confidence, short(e.ConfigHash), e.Key)
		if e.Reverses != "" {
			fmt.Fprintf(w, ", undoes %s", e.Reverses)
		}
		switch e.State {
		case decide.DecApplied:
			fmt.Fprintf(w, "; written to the ledger %s", e.AppliedAt)
		case decide.DecPending:
			fmt.Fprint(w, "; not yet written to the ledger")
		case decide.DecRejected:
			fmt.Fprint(w, "; REFUSED by the ledger")
		}
		fmt.Fprintln(w)
		var parts []string
		for _, a := range d.Allocations {
			it := e.Items[a.ItemID]
			p := a.ItemID
			if it.DocumentNumber != "" && it.DocumentNumber != a.ItemID {
				p += " " + it.DocumentNumber
			}
			if it.CustomerID != "" {
				p += " (" + it.CustomerID + ")"
			}
			p += " " + a.Amount.String()
			if !a.WriteOff.IsZero() {
				p += " + write-off " + a.WriteOff.String()
			}
			parts = append(parts, p)
		}
		for _, p := range d.Postings {
			parts = append(parts, fmt.Sprintf("%s %s %s", p.Kind, p.CustomerID, p.Amount))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "      %s\n", strings.Join(parts, "; "))
		}
		if len(d.Candidates) > 0 && d.Outcome != domain.Auto {
			var c []string
			for _, k := range d.Candidates {
				c = append(c, fmt.Sprintf("%s:%.2f", k.ItemID, k.Score))
			}
			fmt.Fprintf(w, "      candidates %s\n", strings.Join(c, ", "))
		}
		if d.Explanation != "" {
			fmt.Fprintf(w, "      %s\n", decide.MaskIBANs(d.Explanation))
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return orDash(h)
}

// OpenStore opens the configured state store for reading what it holds
// (`lettrage history`); a SQLite file that does not exist yet is an error
// rather than created.
func OpenStore(ctx context.Context, st config.State) (*Store, error) {
	switch st.Driver {
	case "postgres":
		return OpenPostgres(ctx, st.Postgres.DSN)
	case "sqlite", "":
		if _, err := os.Stat(st.SQLite.Path); err != nil {
			return nil, fmt.Errorf("opening the state store %s: %w (no pass has run yet?)", st.SQLite.Path, err)
		}
		return OpenSQLite(st.SQLite.Path)
	}
	return nil, fmt.Errorf("state.driver: unknown driver %q", st.Driver)
}
