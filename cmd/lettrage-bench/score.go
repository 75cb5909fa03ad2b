package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/lettrage/lettrage/connectors/ledger/file"
	"github.com/lettrage/lettrage/domain"
)

// ErrBadColumns is returned (wrapped) when a CSV file lacks a column the
// scorer needs.
var ErrBadColumns = errors.New("missing column")

// tally is the quality of one scenario's decisions, with the definitions of
// matcher/quality_test.go: precision is the share of automatic letters that
// are fully right; the auto-match rate is the share of matchable
// transactions fully and rightly auto-lettered.
type tally struct {
	N, Matchable, Auto, AutoRight, AutoUnknown int
}

func (s tally) precision() float64 {
	if s.Auto == 0 {
		return 1
	}
	return float64(s.AutoRight) / float64(s.Auto)
}

func (s tally) autoRate() float64 {
	if s.Matchable == 0 {
		return 1
	}
	return float64(s.AutoRight) / float64(s.Matchable)
}

func (s *tally) add(o tally) {
	s.N += o.N
	s.Matchable += o.Matchable
	s.Auto += o.Auto
	s.AutoRight += o.AutoRight
	s.AutoUnknown += o.AutoUnknown
}

// report is a scored run.
type report struct {
	Scenarios map[string]*tally
	Total     tally
	// Extra counts lettered tx_refs the truth does not know (a tx_ref
	// mismatch between the statements and truth.csv): each is also an
	// automatic letter that is wrong.
	Extra int
	// Wrong lists a few wrongly lettered tx_refs, for diagnosis.
	Wrong []string
}

type truthRow struct {
	scenario           string
	matchable, unknown bool
	// allocs is the cash per item; settles, for cross-currency
	// allocations, what each settles in the item's currency
	allocs, settles map[string]domain.Amount
	// discounts (item → amount) and onAccount (customer → amount) are the
	// postings that are right too
	discounts, onAccount map[string]domain.Amount
}

// readCSV reads a whole CSV file into rows indexed by header name.
func readCSV(path string, need ...string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading %q header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, n := range need {
		if _, ok := col[n]; !ok {
			return nil, fmt.Errorf("reading %q: %w %q", path, ErrBadColumns, n)
		}
	}
	var rows []map[string]string
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %q: %w", path, err)
		}
		row := make(map[string]string, len(col))
		for n, i := range col {
			if i < len(rec) {
				row[n] = rec[i]
			}
		}
		rows = append(rows, row)
	}
}

func parseAllocs(s string) (map[string]domain.Amount, error) {
	out := map[string]domain.Amount{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, "|") {
		id, amt, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("parsing allocation %q: want item:amount", part)
		}
		a, err := domain.ParseAmount(amt)
		if err != nil {
			return nil, fmt.Errorf("parsing allocation %q: %w", part, err)
		}
		out[id] = out[id].Add(a)
	}
	return out, nil
}

// scoreFiles scores matches.csv against truth.csv; the open items tell
// which items are interchangeable (same customer, currency and residual:
// the oldest-first policy may letter either).
func scoreFiles(truthPath, matchesPath, itemsPath string) (*report, error) {
	byID, err := readItemsByID(itemsPath)
	if err != nil {
		return nil, err
	}
	truth, order, err := readTruth(truthPath)
	if err != nil {
		return nil, err
	}
	m, err := readMatches(matchesPath, truth)
	if err != nil {
		return nil, err
	}
	return m.report(truth, order, byID), nil
}

// readItemsByID reads the open items, by id.
func readItemsByID(itemsPath string) (map[string]domain.OpenItem, error) {
	f, err := os.Open(itemsPath)
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	items, err := file.ReadOpenItems(f, itemsPath)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading open items: %w", err)
	}
	byID := make(map[string]domain.OpenItem, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	return byID, nil
}

// readTruth reads truth.csv: its rows by transaction reference, and the
// references in order.
func readTruth(truthPath string) (map[string]*truthRow, []string, error) {
	trows, err := readCSV(truthPath, truthRequired...)
	if err != nil {
		return nil, nil, err
	}
	truth := make(map[string]*truthRow, len(trows))
	order := make([]string, 0, len(trows))
	for i, r := range trows {
		var cols [4]map[string]domain.Amount
		for k, col := range []string{"allocations", "settles", "discounts", "on_account"} {
			if cols[k], err = parseAllocs(r[col]); err != nil {
				return nil, nil, fmt.Errorf("reading %q line %d: %w", truthPath, i+2, err)
			}
		}
		truth[r["tx_ref"]] = &truthRow{scenario: r["scenario"], matchable: r["matchable"] == "true", unknown: r["unknown"] == "true",
			allocs: cols[0], settles: cols[1], discounts: cols[2], onAccount: cols[3]}
		order = append(order, r["tx_ref"])
	}
	return truth, order, nil
}

// matched is what matches.csv says, by transaction reference:
// allocated_amount is the cash (got); a cross-currency allocation also
// says what it settles in the item's currency (item_amount,
// item_currency: gotSettles): both must be the truth's. badPosting are the
// transactions with a posting the truth does not accept.
type matched struct {
	got, gotSettles map[string]map[string]domain.Amount
	badPosting      map[string]bool
}

// readMatches reads matches.csv, checking its postings against truth.
func readMatches(matchesPath string, truth map[string]*truthRow) (*matched, error) {
	mrows, err := readCSV(matchesPath, "tx_ref", "open_item_id", "allocated_amount")
	if err != nil {
		return nil, err
	}
	m := &matched{got: map[string]map[string]domain.Amount{}, gotSettles: map[string]map[string]domain.Amount{}, badPosting: map[string]bool{}}
	add := func(to map[string]map[string]domain.Amount, ref, id string, a domain.Amount) {
		if to[ref] == nil {
			to[ref] = map[string]domain.Amount{}
		}
		to[ref][id] = to[ref][id].Add(a)
	}
	for i, r := range mrows {
		kind := r["posting_kind"]
		if rule, ok := r["rule"]; kind != "" && (!ok || strings.HasPrefix(rule, "manual:")) {
			continue // an accountant's resolution: not the matcher's to score
		}
		a, err := domain.ParseAmount(r["allocated_amount"])
		if err != nil {
			return nil, fmt.Errorf("reading %q line %d: %w", matchesPath, i+2, err)
		}
		if kind != "" {
			if !postingAccepted(truth[r["tx_ref"]], kind, r["open_item_id"], r["customer_id"], a) {
				m.badPosting[r["tx_ref"]] = true
			}
			continue
		}
		add(m.got, r["tx_ref"], r["open_item_id"], a)
		if r["item_currency"] != "" {
			s, err := domain.ParseAmount(r["item_amount"])
			if err != nil {
				return nil, fmt.Errorf("reading %q line %d: item_amount: %w", matchesPath, i+2, err)
			}
			add(m.gotSettles, r["tx_ref"], r["open_item_id"], s)
		}
	}
	return m, nil
}

// postingAccepted reports whether the truth t (nil when the transaction
// has none) accepts a posting of kind and amount a on item or customer: a
// cash discount closing the item, or cash put on the customer's account,
// each of the truth's amount; nothing else.
func postingAccepted(t *truthRow, kind, item, customer string, a domain.Amount) bool {
	switch {
	case t == nil:
		return false
	case kind == string(domain.CashDiscountPosting):
		want, has := t.discounts[item]
		return has && want.Equal(a)
	case kind == string(domain.OnAccount):
		want, has := t.onAccount[customer]
		return has && want.Equal(a)
	}
	return false
}

// report tallies the decisions by scenario against the truth (in order):
// automatic ones, right when their allocations are equivalent to the
// truth's (byID tells interchangeable items), and those of transactions
// the truth does not know (Extra).
func (m *matched) report(truth map[string]*truthRow, order []string, byID map[string]domain.OpenItem) *report {
	rep := &report{Scenarios: map[string]*tally{}}
	for _, ref := range order {
		t := truth[ref]
		var s tally
		s.N = 1
		if t.matchable {
			s.Matchable = 1
		}
		if g, ok := m.got[ref]; ok || m.badPosting[ref] {
			// a posting the truth does not accept is a wrong automatic
			// decision, with or without allocations
			s.Auto = 1
			if t.matchable && !m.badPosting[ref] && equivalenceKey(byID, g, m.gotSettles[ref]) == equivalenceKey(byID, t.allocs, t.settles) {
				s.AutoRight = 1
			} else if len(rep.Wrong) < 10 {
				rep.Wrong = append(rep.Wrong, t.scenario+" "+ref)
			}
			if t.unknown {
				s.AutoUnknown = 1
			}
		}
		sc := rep.Scenarios[t.scenario]
		if sc == nil {
			sc = &tally{}
			rep.Scenarios[t.scenario] = sc
		}
		sc.add(s)
		rep.Total.add(s)
	}
	for ref := range m.badPosting {
		if truth[ref] == nil && m.got[ref] == nil {
			rep.Extra++
			rep.Total.Auto++
		}
	}
	for ref := range m.got {
		if truth[ref] == nil {
			rep.Extra++
			rep.Total.Auto++
		}
	}
	return rep
}

// equivalenceKey identifies an allocation up to interchangeable items (as
// matcher/quality_test.go does): allocs is the cash per item, settles what
// cross-currency allocations settle in the items' currency.
func equivalenceKey(items map[string]domain.OpenItem, allocs, settles map[string]domain.Amount) string {
	keys := make([]string, 0, len(allocs))
	for id, a := range allocs {
		it, ok := items[id]
		k := "?" + id + "|" + a.Key()
		if ok {
			k = fmt.Sprintf("%s|%s|%s|%s", it.CustomerID, it.Currency, it.Residual.Key(), a.Key())
		}
		if s, ok := settles[id]; ok {
			k += "|settles " + s.Key()
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ";")
}

// print writes the per-scenario table and the total.
func (r *report) print(w io.Writer) {
	names := make([]string, 0, len(r.Scenarios))
	for k := range r.Scenarios {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "%-26s %7s %7s %7s %10s %9s %8s\n", "scenario", "n", "match", "auto", "precision", "autorate", "unknown")
	line := func(name string, s tally) {
		fmt.Fprintf(w, "%-26s %7d %7d %7d %9.2f%% %8.2f%% %8d\n", name, s.N, s.Matchable, s.Auto, 100*s.precision(), 100*s.autoRate(), s.AutoUnknown)
	}
	for _, k := range names {
		line(k, *r.Scenarios[k])
	}
	line("TOTAL", r.Total)
	if r.Extra > 0 {
		fmt.Fprintf(w, "%d lettered tx_ref(s) not in the truth file\n", r.Extra)
	}
	fmt.Fprintf(w, "wrong automatic letters: %d", r.Total.Auto-r.Total.AutoRight)
	if len(r.Wrong) > 0 {
		fmt.Fprintf(w, " (the first %d:)", len(r.Wrong))
	}
	fmt.Fprintln(w)
	for _, x := range r.Wrong {
		fmt.Fprintf(w, "  wrong: %s\n", x)
	}
}
