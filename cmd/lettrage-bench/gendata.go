package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/gen"
	"github.com/lettrage/lettrage/matcher"
)

// genOptions shape the statements written from a dataset.
type genOptions struct {
	// PerFile is the most entries one statement file holds.
	PerFile int
	// BatchPercent is the share of entries (percent) that are batch
	// bookings of several payments of the same day.
	BatchPercent int
	// Heavy pads every transaction as remittance-heavy statements do
	// (entry.Heavy).
	Heavy bool
	// NotifiedPercent is the share (percent) of credit batch entries that
	// the camt.053 books as one amount without details, the details being
	// in a camt.054 notification; IntradayPercent the share of entries
	// the bank also reported during the day in a camt.052.
	NotifiedPercent, IntradayPercent int
}

// currencyAccounts are the company's bank accounts, one per currency: a
// statement covers one account, so payments in USD arrive on their own
// account (and the statements' balance checks hold).
var currencyAccounts = map[string]string{"EUR": "FR7630006000011234567890189", "USD": "FR7630006000011234567890286"}

func accountFor(ccy string) string {
	if a, ok := currencyAccounts[ccy]; ok {
		return a
	}
	sum := 0
	for _, r := range ccy {
		sum = sum*31 + int(r)
	}
	return fmt.Sprintf("FR7630006000011234567%06d", sum%1000000)
}

// writeDataset writes DIR/open_items.csv, DIR/statements/*.xml and
// DIR/truth.csv for ds. It returns the statement files written.
func writeDataset(dir string, seed uint64, ds *gen.Dataset, opt genOptions) ([]string, error) {
	if opt.PerFile <= 0 {
		opt.PerFile = 50000
	}
	stDir := filepath.Join(dir, "statements")
	if err := os.MkdirAll(stDir, 0o750); err != nil {
		return nil, fmt.Errorf("creating %q: %w", stDir, err)
	}
	// Stale statements from an earlier run would be read by `match`.
	old, _ := filepath.Glob(filepath.Join(stDir, "*.xml"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("removing stale %q: %w", f, err)
		}
	}
	uniqueRefs(ds.Transactions)
	if err := writeOpenItems(filepath.Join(dir, "open_items.csv"), ds.Items); err != nil {
		return nil, err
	}
	if err := writeTruth(filepath.Join(dir, "truth.csv"), ds); err != nil {
		return nil, err
	}
	if err := writeJobConfig(filepath.Join(dir, "lettrage.yaml"), ds.Config); err != nil {
		return nil, err
	}
	return writeStatements(stDir, seed, ds.Transactions, opt)
}

// uniqueRefs gives a transaction whose Ref repeats an earlier one's the
// suffix -2, -3…: internal/gen can deliver the same payment twice as a
// "duplicate" more than once (about 9 times in a million), and the bank's
// reference of every transaction must be unique for truth.csv to name it.
func uniqueRefs(txs []domain.Transaction) {
	seen := make(map[string]int, len(txs))
	for i := range txs {
		tx := &txs[i]
		seen[tx.Ref]++
		if n := seen[tx.Ref]; n > 1 {
			suffix := fmt.Sprintf("-%d", n)
			tx.Ref += suffix
			tx.Key += suffix
			seen[tx.Ref]++
		}
	}
}

// writeOpenItems writes the items as the open_items.csv contract
// (docs/FORMATS.md).
func writeOpenItems(path string, items []domain.OpenItem) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating open items: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"id", "customer_id", "customer_name", "document_number", "issue_date", "due_date",
		"currency", "amount", "residual", "payment_reference", "customer_iban"})
	for _, it := range items {
		digits := domain.CurrencyDigits(it.Currency)
		_ = w.Write([]string{it.ID, it.CustomerID, it.CustomerName, it.DocumentNumber, day(it.IssueDate), day(it.DueDate),
			it.Currency, it.Amount.StringFixed(digits), it.Residual.StringFixed(digits), it.PaymentReference,
			strings.Join(it.IBANs, "|")})
	}
	w.Flush()
	return closeAfter(f, w.Error(), "writing open items")
}

// truthHeader is the header of truth.csv: one row per transaction, with
// the allocations a right automatic decision makes (item:amount, joined
// with '|'; empty when nothing should be lettered; the amount is the cash,
// in the payment's currency) and, for cross-currency allocations (an FX
// rule), what each settles in the item's currency (settles, the same
// form). A matchable row is one a right automatic letter exists for; a
// row that is not may still name the item the payer meant (two customers
// nothing tells apart): lettering it automatically is wrong.
//
// discounts and on_account list postings that are right too (item:amount
// and customer:amount): a cash discount the payer took may be left open or
// closed by a cash_discount posting of exactly that amount on that item;
// the excess of an overpayment, or a payment of an invoice already paid,
// may be reported or put on that customer's account for exactly that
// amount. Any other posting is wrong.
var truthHeader = []string{"tx_ref", "scenario", "matchable", "unknown", "allocations", "settles", "discounts", "on_account"}

// truthRequired are the columns score needs: truth files written before
// the settles column have none of cross-currency allocations.
var truthRequired = truthHeader[:5]

// formatAllocs writes allocations as item:amount joined with '|', in item
// order.
func formatAllocs(m map[string]domain.Amount) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	parts := make([]string, len(ids))
	for k, id := range ids {
		parts[k] = id + ":" + m[id].String()
	}
	return strings.Join(parts, "|")
}

func writeTruth(path string, ds *gen.Dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating truth: %w", err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(truthHeader)
	for i, tx := range ds.Transactions {
		t := ds.Truth[i]
		_ = w.Write([]string{tx.Ref, t.Scenario, strconv.FormatBool(t.Matchable), strconv.FormatBool(t.Unknown),
			formatAllocs(t.Allocations), formatAllocs(t.Settles), formatAllocs(t.Discounts), formatAllocs(t.OnAccount)})
	}
	w.Flush()
	return closeAfter(f, w.Error(), "writing truth")
}

func closeAfter(f *os.File, err error, what string) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, f.Name(), err)
	}
	return nil
}

// writeStatements groups the transactions by currency account, orders them
// by booking date, forms entries (some batch bookings of several payments
// of one day and one direction) and writes statement files of at most
// opt.PerFile entries, one Stmt each.
func writeStatements(dir string, seed uint64, txs []domain.Transaction, opt genOptions) ([]string, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed5eed))
	byCcy := map[string][]*domain.Transaction{}
	for i := range txs {
		byCcy[txs[i].Currency] = append(byCcy[txs[i].Currency], &txs[i])
	}
	ccys := make([]string, 0, len(byCcy))
	for c := range byCcy {
		ccys = append(ccys, c)
	}
	sort.Strings(ccys)
	var files []string
	seq := 0
	for _, ccy := range ccys {
		list := byCcy[ccy]
		sort.SliceStable(list, func(a, b int) bool {
			if !list[a].BookingDate.Equal(list[b].BookingDate) {
				return list[a].BookingDate.Before(list[b].BookingDate)
			}
			return list[a].Ref < list[b].Ref
		})
		var entries []*entry
		for i := 0; i < len(list); {
			n := 1
			if opt.BatchPercent > 0 && rng.IntN(100) < opt.BatchPercent {
				n = 2 + rng.IntN(4)
			}
			tx := list[i]
			e := &entry{Currency: ccy, Credit: tx.Credit, Booking: tx.BookingDate, Txs: []*domain.Transaction{tx}}
			for i++; len(e.Txs) < n && i < len(list) && list[i].Credit == tx.Credit &&
				list[i].BookingDate.Equal(tx.BookingDate); i++ {
				e.Txs = append(e.Txs, list[i])
			}
			for _, t := range e.Txs {
				e.Amount = e.Amount.Add(t.Amount)
			}
			seq++
			e.NtryRef = fmt.Sprintf("NR%09d", seq)
			e.AcctSvcrRef = fmt.Sprintf("NTRY%09d", seq)
			e.Seq = seq
			entries = append(entries, e)
		}
		var notified, intraday []*entry
		for _, e := range entries {
			if opt.NotifiedPercent > 0 && e.Credit && len(e.Txs) > 1 && rng.IntN(100) < opt.NotifiedPercent {
				e.NoDetails = true
				notified = append(notified, e)
			}
			if opt.IntradayPercent > 0 && rng.IntN(100) < opt.IntradayPercent {
				intraday = append(intraday, e)
			}
			e.Heavy = opt.Heavy
		}
		for _, r := range []struct {
			kind, name string
			list       []*entry
		}{{"camt.054", "camt054", notified}, {"camt.052", "camt052", intraday}} {
			for part := 0; len(r.list) > 0; part++ {
				n := min(opt.PerFile, len(r.list))
				chunk := r.list[:n]
				r.list = r.list[n:]
				h := &stmtHeader{MsgID: fmt.Sprintf("BENCH-%d-%s-%s-%04d", seed, r.name, ccy, part+1),
					ID: fmt.Sprintf("%s-%d-%s-%04d", strings.ToUpper(r.name), seed, ccy, part+1), Seq: part + 1,
					Created: chunk[n-1].Booking.Add(14 * time.Hour), Account: accountFor(ccy), Owner: "Lettrage Bench SAS", Currency: ccy}
				path := filepath.Join(dir, fmt.Sprintf("%s-%s-%04d.xml", r.name, ccy, part+1))
				if err := writeReportFile(path, r.kind, h, chunk); err != nil {
					return files, err
				}
				files = append(files, path)
			}
		}
		opening := domain.AmountFromInt(250000)
		for part := 0; len(entries) > 0; part++ {
			n := min(opt.PerFile, len(entries))
			chunk := entries[:n]
			entries = entries[n:]
			h := &stmtHeader{
				MsgID: fmt.Sprintf("BENCH-%d-%s-%04d", seed, ccy, part+1), ID: fmt.Sprintf("STMT-%d-%s-%04d", seed, ccy, part+1),
				Seq: part + 1, Created: chunk[n-1].Booking.Add(22 * time.Hour),
				From: chunk[0].Booking, To: chunk[n-1].Booking,
				Account: accountFor(ccy), Owner: "Lettrage Bench SAS", Currency: ccy, Opening: opening, Entries: n,
			}
			for _, e := range chunk {
				if e.Credit {
					h.Credits++
					h.CreditSum = h.CreditSum.Add(e.Amount)
				} else {
					h.Debits++
					h.DebitSum = h.DebitSum.Add(e.Amount)
				}
			}
			opening = h.closing()
			path := filepath.Join(dir, fmt.Sprintf("camt053-%s-%04d.xml", ccy, part+1))
			if err := writeStatementFile(path, h, chunk); err != nil {
				return files, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}

func writeStatementFile(path string, h *stmtHeader, entries []*entry) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating statement: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing statement %q: %w", path, cerr)
		}
	}()
	c := newCAMTWriter(f)
	c.begin(h)
	for _, e := range entries {
		c.entry(e)
	}
	if err := c.end(); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// writeReportFile writes a camt.052 report or camt.054 notification of
// the entries, with all their details.
func writeReportFile(path, kind string, h *stmtHeader, entries []*entry) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", kind, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing %s %q: %w", kind, path, cerr)
		}
	}()
	c := newCAMTWriter(f)
	c.beginReport(kind, h)
	for _, e := range entries {
		full := *e
		full.NoDetails = false
		c.entry(&full)
	}
	if err := c.endReport(kind); err != nil {
		return fmt.Errorf("writing %q: %w", path, err)
	}
	return nil
}

// writeJobConfig writes a `lettrage once` configuration that runs the
// dataset with the matching settings it was generated for (the bank-charge
// tolerance): statements from DIR/statements, open items from
// DIR/open_items.csv, journal, reports and SQLite state under DIR/out.
func writeJobConfig(path string, mc matcher.Config) error {
	var b strings.Builder
	b.WriteString(`# Written by lettrage-bench gen. Delete out/ before running again: the
# state store remembers what was decided.
#   lettrage once -c lettrage.yaml && lettrage-bench score --truth truth.csv --matches out/matches.csv
log: {level: warn, format: text}
state:
  driver: sqlite
  sqlite: {path: out/state.db}
jobs:
  - name: bench
    schedule: "@every 24h"
    source:
      type: local
      local: {dir: statements, pattern: "*.xml"}
    ledger:
      type: file
      file: {open_items: open_items.csv, journal: out/matches.csv}
    reports: {dir: out}
    matching:
`)
	fmt.Fprintf(&b, "      auto_threshold: %g\n      same_amount: %s\n      max_combination: %d\n", mc.AutoThreshold, mc.SameAmount, mc.MaxCombination)
	if len(mc.Tolerances) > 0 {
		b.WriteString("      tolerances:\n")
		for _, t := range mc.Tolerances {
			fmt.Fprintf(&b, "        - {currency: %q, absolute: %q, percent: %q}\n", t.Currency, t.Absolute.String(), t.Percent.String())
		}
	}
	if len(mc.FX) > 0 {
		b.WriteString("      fx:\n")
		for _, r := range mc.FX {
			fmt.Fprintf(&b, "        - {item_currency: %q, cash_currency: %q, tolerance_percent: %q}\n", r.ItemCurrency, r.CashCurrency, r.TolerancePercent.String())
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o640); err != nil {
		return fmt.Errorf("writing job config: %w", err)
	}
	return nil
}

// errUsage marks a command-line mistake (exit code 2).
var errUsage = errors.New("usage")
