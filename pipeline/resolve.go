package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/report"
	"github.com/lettrage/lettrage/pipeline/state"
)

// ResolveOptions carries who resolves and from where (the audit trail).
type ResolveOptions struct {
	Actor  string // who decided (config, flag or the file's author)
	Origin string // the file it came from
	// AllowMultiCustomer lets one payment be lettered to items of several
	// customers (refused by default).
	AllowMultiCustomer bool
	// AllowLargeWriteOff lets a write_off row write off more than the
	// job's limit (Job.WriteOffLimits, else DefaultWriteOffLimit).
	AllowLargeWriteOff bool
}

// parsedItem is one "ID[:amount]" of the items column.
type parsedItem struct {
	id     string
	amount *domain.Amount
}

// parseItems reads "OI1:100.00;OI2:50,00;OI3" (also "," or whitespace
// between items when no amount has a decimal comma).
func parseItems(s string) ([]parsedItem, error) {
	var out []parsedItem
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '\n' || r == '|' })
	if len(fields) == 1 && !strings.Contains(fields[0], ":") {
		fields = strings.FieldsFunc(fields[0], func(r rune) bool { return r == ',' || r == ' ' })
	}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, amt, hasAmt := strings.Cut(f, ":")
		p := parsedItem{id: strings.TrimSpace(id)}
		if hasAmt {
			txt := strings.ReplaceAll(strings.TrimSpace(amt), " ", "")
			if strings.Count(txt, ",") == 1 && !strings.Contains(txt, ".") {
				txt = strings.Replace(txt, ",", ".", 1) // a French decimal comma
			}
			a, err := domain.ParseAmount(txt)
			if err != nil {
				return nil, fmt.Errorf("item %q: amount %q is not a decimal", p.id, amt)
			}
			p.amount = &a
		}
		if p.id == "" {
			return nil, fmt.Errorf("empty item id in %q", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// docKey is how document numbers typed in items are compared: trimmed,
// upper case.
func docKey(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// parseItemRefs parses the items column (parseItems) and resolves each
// reference — an open item's id, or its document number (FA-2026-00137) —
// to the item's id. A document number that names several open items, or
// a reference that is one item's id and another's document number, is an
// error saying which: the accountant writes the id.
func parseItemRefs(s string, byID map[string]domain.OpenItem, byDoc map[string][]string) ([]parsedItem, error) {
	wanted, err := parseItems(s)
	if err != nil {
		return nil, err
	}
	for i, w := range wanted {
		docs := byDoc[docKey(w.id)]
		_, isID := byID[w.id]
		switch {
		case isID && (len(docs) == 0 || len(docs) == 1 && docs[0] == w.id):
		case isID:
			others := []string{}
			for _, d := range docs {
				if d != w.id {
					others = append(others, d)
				}
			}
			return nil, fmt.Errorf("%q is the id of one open item and the document number of %s: ambiguous, write the id of the one meant",
				w.id, strings.Join(others, ", "))
		case len(docs) == 1:
			wanted[i].id = docs[0]
		case len(docs) > 1:
			sorted := append([]string(nil), docs...)
			sort.Strings(sorted)
			return nil, fmt.Errorf("document number %q names %d open items (%s): ambiguous, write the id of the one meant",
				w.id, len(docs), strings.Join(sorted, ", "))
		}
	}
	return wanted, nil
}

// Resolve applies accountants' decisions through the same outbox as the
// automatic ones: every row is validated against the current state and open
// items, valid rows are committed (letters PENDING) and written back exactly
// once, and every row gets a result. A file applied twice applies nothing
// twice: its rows come back as already_applied.
func (j *Job) Resolve(ctx context.Context, rows []report.Resolution, opts ResolveOptions) ([]report.RowResult, error) {
	if j.Locker != nil {
		release, ok, err := j.Locker.TryLock(ctx, j.Name)
		if err != nil {
			return nil, fmt.Errorf("resolving for job %q: %w", j.Name, err)
		}
		if !ok {
			return nil, fmt.Errorf("resolving for job %q: %w", j.Name, ErrBusy)
		}
		defer release()
	}
	// No "component" here: the write-back below logs as the ledger, and a
	// JSON log line must not carry the key twice.
	log := j.Log.With("job", j.Name, "origin", filepath.Base(opts.Origin))
	if _, err := j.applyPending(ctx, log); err != nil {
		return nil, err
	}
	return j.resolveLocked(ctx, rows, opts, log)
}

// resolveLocked is Resolve for a caller that holds the job's lock and has
// completed the PENDING decisions.
func (j *Job) resolveLocked(ctx context.Context, rows []report.Resolution, opts ResolveOptions, log *slog.Logger) ([]report.RowResult, error) {
	items, err := j.Ledger.OpenItems(ctx)
	if err != nil {
		return nil, openItemsError(err)
	}
	byID := make(map[string]domain.OpenItem, len(items))
	left := make(map[string]domain.Amount, len(items))
	customers := map[string]bool{}
	byDoc := map[string][]string{} // document number (folded) → item ids
	for _, it := range items {
		byID[it.ID] = it
		left[it.ID] = it.Residual
		customers[it.CustomerID] = true
		if d := docKey(it.DocumentNumber); d != "" {
			byDoc[d] = append(byDoc[d], it.ID)
		}
	}

	results := make([]report.RowResult, len(rows))
	commit := state.Commit{Job: j.Name, ConfigHash: j.ConfigHash, At: j.now(), Actor: opts.Actor, Origin: opts.Origin}
	seen := map[string]int{}
	lk := &rowLookup{byID: byID, byDoc: byDoc, left: left, customers: customers, seen: seen}
	rowOf := map[string]int{} // decision key → index in results
	for i, r := range rows {
		res := report.RowResult{Row: r.Row, TxRef: r.TxRef, Action: r.Action, Status: "refused"}
		out := j.resolveRow(ctx, r, opts, lk)
		recs, learned, msg := out.recs, out.learned, out.msg
		switch {
		case out.already:
			res.Status, res.Message = "already_applied", msg
		case len(recs) == 0:
			res.Message = msg
		default:
			res.Status, res.Message = "applied", msg
			for _, rec := range recs {
				seen[rec.Tx.Key] = r.Row
				rowOf[rec.Key] = i
			}
			commit.Decisions = append(commit.Decisions, recs...)
			commit.Learned = append(commit.Learned, learned...)
		}
		results[i] = res
	}
	defer func() {
		for i, r := range rows {
			j.Metrics.resolution(j.Name, r.Action, results[i].Status)
			if r.Action == "ignore" && results[i].Status == "applied" {
				j.Metrics.setAside(j.Name, decide.SetAsideByHand, 1)
			}
		}
	}()
	if len(commit.Decisions) > 0 {
		if err := j.Store.SaveCommit(ctx, commit); err != nil {
			for _, i := range rowOf {
				results[i].Status = "refused" // nothing committed (for the metrics)
			}
			return nil, err
		}
		refused := map[string]string{}
		_, err := j.applyAll(context.WithoutCancel(ctx), log, pendingOf(commit), refused)
		// What the ledger refused is recorded (an exception again, or the
		// letter standing); the row says so.
		for key, reason := range refused {
			if i, ok := rowOf[key]; ok {
				then := "the payment is an exception again, showing this reason"
				if results[i].Action == "unletter" {
					then = "the letter stands"
				}
				results[i].Status = "refused"
				results[i].Message = fmt.Sprintf("refused by the ledger: %s; %s (nothing written of: %s)", reason, then, results[i].Message)
			}
		}
		if err != nil {
			return results, err
		}
		j.reportItems = byID
		if _, err := j.writeReports(ctx, nil, nil); err != nil {
			return results, err
		}
	}
	log.Info("resolutions processed", "component", "resolve", "rows", len(rows), "applied", len(commit.Decisions), "actor", opts.Actor)
	return results, nil
}

// rowLookup is what resolving a file's rows reads beside the store: the
// open items by id and by document number (folded), the customers with an
// open item; and what the rows write as they go: the residuals the rows
// before left (left), the transactions they resolved, with their rows
// (seen, by transaction key).
type rowLookup struct {
	byID      map[string]domain.OpenItem
	byDoc     map[string][]string
	left      map[string]domain.Amount
	customers map[string]bool
	seen      map[string]int
}

// rowOutcome is what resolving one row gives: the decisions to commit
// (one, or the reversals of an unletter) with what is learned from them,
// or none and a refusal message; already is true when this very
// resolution was applied before (the same file dropped twice).
type rowOutcome struct {
	recs    []decide.DecisionRecord
	learned []matcher.Learning
	msg     string
	already bool
}

// refused is a row refused with msg.
func refused(msg string) rowOutcome { return rowOutcome{msg: msg} }

// resolveRow validates one row (checkRow, the transaction's state) and
// resolves it by its action.
//
// A payment lettered with cash left over (an overpayment) is resolved for
// that remainder only: the row's decision allocates or posts at most the
// remainder, is written to the ledger under its own key, and the payment
// then shows its letter and the remainder's resolution together
// (DecisionRecord.Shows).
func (j *Job) resolveRow(ctx context.Context, r report.Resolution, opts ResolveOptions, lk *rowLookup) rowOutcome {
	key, msg := checkRow(r, lk.seen)
	if msg != "" {
		return refused(msg)
	}
	decKey, done, err := j.manualKey(ctx, key, r)
	if err != nil {
		return refused(err.Error())
	} else if done {
		return rowOutcome{msg: "this resolution was applied before (same file or row dropped again): nothing done", already: true}
	}
	st, found, err := j.Store.Transaction(ctx, j.Name, key)
	switch {
	case err != nil:
		return refused(err.Error())
	case !found:
		return refused(fmt.Sprintf("no transaction %s on account %s in job %q", r.TxRef, decide.MaskIBAN(r.Account), j.Name))
	case r.Action == "unletter":
		return j.unletterRow(ctx, r, opts, key, st)
	}
	if msg := stateRefusal(r, st); msg != "" {
		return refused(msg)
	}
	rs := resolving{r: r, opts: opts, lk: lk, st: st, decKey: decKey, work: st.Tx,
		remainder: st.State == decide.TxLettered, by: resolvedBy(r, opts),
		d: domain.Decision{TxKey: key, Confidence: 1, Candidates: st.Decision.Candidates}}
	if rs.remainder {
		// what the row may allocate or post: the remainder
		rs.work.Amount = st.Decision.Excess
		if rs.paidBy, err = j.paidCustomers(ctx, key); err != nil {
			return refused(err.Error())
		}
	}
	switch r.Action {
	case "accept", "letter":
		return j.letterRow(&rs)
	case "on_account":
		return j.onAccountRow(&rs)
	case "write_off":
		return j.writeOffRow(&rs)
	case "ignore":
		if r.Comment == "" {
			return refused(r.Action + ": give a reason code in comment")
		}
		rs.d.Outcome, rs.d.Rule, rs.d.Reason = domain.Ignored, "manual:"+r.Action, r.Comment
		rs.d.Explanation = strings.ReplaceAll(r.Action, "_", " ") + " " + rs.by
	}
	return rowOutcome{recs: []decide.DecisionRecord{{Key: decKey, Tx: &st.Tx, Decision: rs.d}}, msg: rs.d.Explanation}
}

// checkRow checks what a row says by itself, before the store is read:
// tx_ref and account_iban given, an action known (or none), and no row
// before (seen) resolving the same transaction. It returns the
// transaction's key, or a refusal message.
func checkRow(r report.Resolution, seen map[string]int) (key, refusal string) {
	if r.TxRef == "" || r.Account == "" {
		return "", "tx_ref and account_iban are required"
	}
	if r.Action != "" && !slices.Contains(report.Actions, r.Action) {
		return "", fmt.Sprintf("unknown action %q (want one of %s)", r.Action, strings.Join(report.Actions, ", "))
	}
	key = matcher.NormaliseIBAN(r.Account) + "|" + r.TxRef
	if prev, dup := seen[key]; dup {
		return "", fmt.Sprintf("duplicate row: row %d already resolves this transaction", prev)
	}
	return key, ""
}

// stateRefusal says why a row (other than unletter) cannot resolve the
// transaction st in its state, "" when it can: an open exception, or the
// remainder of an overpayment (lettered automatically with cash left
// over), which cannot be ignored.
func stateRefusal(r report.Resolution, st decide.StoredTx) string {
	switch {
	case st.State == decide.TxLettered && st.Decision.Outcome == domain.Auto && !st.Decision.Excess.IsZero():
		if r.Action == "ignore" {
			return fmt.Sprintf("ignore: it is lettered (rule %s) with %s %s left over: put that on account, write it off, "+
				"letter it to items, or unletter the payment", st.Decision.Rule, st.Decision.Excess, st.Tx.Currency)
		}
	case st.State != decide.TxOpen:
		how := "it is " + st.State
		if st.Decision.Rule != "" {
			how = fmt.Sprintf("it was %s meanwhile (rule %s)", st.State, st.Decision.Rule)
		}
		return "not an open exception any more: " + how
	}
	return ""
}

// resolvedBy is how a decision's explanation says who resolved it from
// which row: "by <actor> from <file> row <n>", and " — <comment>".
func resolvedBy(r report.Resolution, opts ResolveOptions) string {
	who := opts.Actor
	if who == "" {
		who = "an accountant"
	}
	by := fmt.Sprintf("by %s from %s row %d", who, filepath.Base(opts.Origin), r.Row)
	if r.Comment != "" {
		by += " — " + r.Comment
	}
	return by
}

// unletterRow resolves an unletter row: the reversals of the payment's
// letters (key), unless it is unlettered already.
func (j *Job) unletterRow(ctx context.Context, r report.Resolution, opts ResolveOptions, key string, st decide.StoredTx) rowOutcome {
	if st.State == decide.TxOpen && st.Decision.Reason == domain.ReasonUnlettered {
		return rowOutcome{msg: "already unlettered: it is an open exception again", already: true}
	}
	revs, refusal, err := j.reversals(ctx, key, "unlettered "+resolvedBy(r, opts))
	switch {
	case err != nil:
		return refused(err.Error())
	case len(revs) == 0:
		return refused("cannot unletter: " + refusal)
	}
	var nAllocs, nPostings int
	for _, rev := range revs {
		nAllocs += len(rev.Decision.Allocations)
		nPostings += len(rev.Decision.Postings)
	}
	undone := fmt.Sprintf("%d allocation(s)", nAllocs)
	if nPostings > 0 {
		undone += fmt.Sprintf(" and %d posting(s)", nPostings)
	}
	if len(revs) > 1 {
		undone += fmt.Sprintf(" of %d decisions", len(revs))
	}
	return rowOutcome{recs: revs, msg: "unlettered: " + undone + " undone; the payment is an exception again"}
}

// resolving is one row being resolved once its transaction (st) is
// found open, or lettered with a remainder: work is the transaction with
// the cash the row may allocate or post (all of it, or the remainder),
// paidBy the customers the payment's standing letters already went to (a
// remainder's resolution stays with them unless allowed), d the decision
// being made, by who made it (resolvedBy).
type resolving struct {
	r         report.Resolution
	opts      ResolveOptions
	lk        *rowLookup
	st        decide.StoredTx
	decKey    string
	work      domain.Transaction
	paidBy    map[string]bool
	remainder bool
	d         domain.Decision
	by        string
}

// manyCustomers reports whether the row's customers (of), with those the
// payment already went to, are more than one.
func (rs *resolving) manyCustomers(of map[string]bool) bool {
	all := map[string]bool{}
	for _, m := range []map[string]bool{rs.paidBy, of} {
		for c := range m {
			all[c] = true
		}
	}
	return len(all) > 1
}

// learnFor is what the matcher learns from a row that letters the payment
// to customer: the payer's IBAN and name are theirs.
func (rs *resolving) learnFor(customer string) []matcher.Learning {
	tx := rs.st.Tx
	var l []matcher.Learning
	if tx.Counterparty.IBAN != "" {
		l = append(l, matcher.Learning{Kind: "iban", Value: matcher.NormaliseIBAN(tx.Counterparty.IBAN), CustomerID: customer})
	}
	if n := matcher.NormaliseName(tx.Counterparty.Name); n != "" {
		l = append(l, matcher.Learning{Kind: "name", Value: n, CustomerID: customer})
	}
	return l
}

// letterRow resolves an accept row (the first candidate) or a letter row
// (the items it names): the items are lettered, of one customer unless
// allowed.
func (j *Job) letterRow(rs *resolving) rowOutcome {
	r, lk := rs.r, rs.lk
	var wanted []parsedItem
	if r.Action == "accept" {
		if len(rs.st.Decision.Candidates) == 0 {
			return refused("accept: this exception has no candidate; use letter with items")
		}
		wanted = []parsedItem{{id: rs.st.Decision.Candidates[0].ItemID}}
	} else {
		var err error
		if wanted, err = parseItemRefs(r.Items, lk.byID, lk.byDoc); err != nil {
			return refused("items: " + err.Error())
		}
		if len(wanted) == 0 {
			return refused("letter: items is empty (e.g. OI1:100.00;OI2)")
		}
	}
	lt, refusal := letterItems(rs.work, wanted, lk.byID, lk.left, false)
	if refusal != "" {
		return refused(refusal)
	}
	if rs.manyCustomers(lt.customers) && !rs.opts.AllowMultiCustomer {
		return refused("the items belong to several customers (not allowed by this job)")
	}
	lt.commit(lk.left)
	d := rs.d
	d.Outcome, d.Rule, d.Excess, d.Allocations = domain.Auto, "manual:"+r.Action, lt.remaining, lt.allocations
	d.Explanation = "lettered " + rs.by
	var learned []matcher.Learning
	if len(lt.customers) == 1 {
		learned = rs.learnFor(lt.customer())
	}
	tx := rs.st.Tx
	return rowOutcome{recs: j.recorded(lt.record(rs.decKey, tx, d, lk.byID), rs.st, rs.remainder), learned: learned,
		msg: fmt.Sprintf("lettered %s %s to %d item(s)", lt.lettered(rs.work.Amount), tx.Currency, len(lt.allocations))}
}

// onAccountRow resolves an on_account row: the items it names (if any)
// are lettered and the rest is put on account of its customer, who must
// have open items, or be the one the payment was lettered to, and own the
// items, unless allowed.
func (j *Job) onAccountRow(rs *resolving) rowOutcome {
	r, lk, cash, tx := rs.r, rs.lk, rs.work.Amount, rs.st.Tx
	if r.Customer == "" {
		return refused("on_account: the customer column is required")
	}
	switch {
	case rs.paidBy[r.Customer]:
		// The customer the payment was lettered to (maybe with no open
		// item left): its remainder is theirs.
	case len(rs.paidBy) > 0 && !rs.opts.AllowMultiCustomer:
		return refused(fmt.Sprintf("on_account: the payment was lettered to customer %s, not %s: put its remainder on account of %s "+
			"(another customer is not allowed by this job)", strings.Join(sortedKeys(rs.paidBy), ", "), r.Customer, strings.Join(sortedKeys(rs.paidBy), ", ")))
	case !lk.customers[r.Customer]:
		return refused(fmt.Sprintf("on_account: customer %q has no open item in the ledger", r.Customer))
	}
	wanted, err := parseItemRefs(r.Items, lk.byID, lk.byDoc)
	if err != nil {
		return refused("items: " + err.Error())
	}
	lt, refusal := letterItems(rs.work, wanted, lk.byID, lk.left, false)
	if refusal != "" {
		return refused(refusal)
	}
	for c := range lt.customers {
		if c != r.Customer && !rs.opts.AllowMultiCustomer {
			return refused(fmt.Sprintf("on_account: the items belong to customer %s, not %s (not allowed by this job)", c, r.Customer))
		}
	}
	lt.commit(lk.left)
	d := rs.d
	d.Outcome, d.Rule, d.Allocations = domain.Auto, "manual:on_account", lt.allocations
	msg := fmt.Sprintf("put %s %s on account of %s", lt.remaining, tx.Currency, r.Customer)
	if len(lt.allocations) > 0 {
		msg = fmt.Sprintf("lettered %s %s to %d item(s) and put %s on account of %s", lt.lettered(cash), tx.Currency,
			len(lt.allocations), lt.remaining, r.Customer)
	}
	if lt.remaining.Sign() != 0 {
		d.Postings = []domain.Posting{{Kind: domain.OnAccount, CustomerID: r.Customer, Amount: lt.remaining, Reason: r.Comment}}
	} else {
		msg = fmt.Sprintf("lettered %s %s to %d item(s); nothing left to put on account", lt.lettered(cash), tx.Currency, len(lt.allocations))
	}
	d.Explanation = msg + " " + rs.by
	return rowOutcome{recs: j.recorded(lt.record(rs.decKey, tx, d, lk.byID), rs.st, rs.remainder), learned: rs.learnFor(r.Customer), msg: msg}
}

// writeOffRow resolves a write_off row: the items it names (if any) are
// lettered, closed with a write-off when short, and the rest of the
// payment is written off; never both short items and a rest, and no more
// than the job's write-off limit unless allowed.
func (j *Job) writeOffRow(rs *resolving) rowOutcome {
	r, lk, cash, tx := rs.r, rs.lk, rs.work.Amount, rs.st.Tx
	if r.Comment == "" {
		return refused("write_off: give a reason code in comment")
	}
	wanted, err := parseItemRefs(r.Items, lk.byID, lk.byDoc)
	if err != nil {
		return refused("items: " + err.Error())
	}
	lt, refusal := letterItems(rs.work, wanted, lk.byID, lk.left, true)
	if refusal != "" {
		return refused(refusal)
	}
	if rs.manyCustomers(lt.customers) && !rs.opts.AllowMultiCustomer {
		return refused("the items belong to several customers (not allowed by this job)")
	}
	closing := lt.writtenOff()
	if closing.Sign() > 0 && lt.remaining.Sign() > 0 {
		return refused(fmt.Sprintf("write_off: the items would be closed %s short while %s of the payment is left over: allocate more of the payment to them",
			closing, lt.remaining))
	}
	total := lt.remaining // what is written off, whatever its direction
	for _, a := range lt.allocations {
		total = total.Add(a.WriteOff.Abs())
	}
	if limit := j.writeOffLimit(tx.Currency); total.Cmp(limit) > 0 && !rs.opts.AllowLargeWriteOff {
		return refused(fmt.Sprintf("write_off: %s %s is above this job's write-off limit of %s %s (a larger one needs lettrage resolve --allow-large-write-off)",
			total, tx.Currency, limit, tx.Currency))
	}
	lt.commit(lk.left)
	d := rs.d
	d.Outcome, d.Rule, d.Allocations = domain.Auto, "manual:write_off", lt.allocations
	if lt.remaining.Sign() != 0 {
		d.Postings = []domain.Posting{{Kind: domain.WriteOffPosting, Amount: lt.remaining, Reason: r.Comment}}
	}
	msg := fmt.Sprintf("wrote off %s %s (%s)", lt.remaining, tx.Currency, r.Comment)
	if len(lt.allocations) > 0 {
		msg = fmt.Sprintf("lettered %s %s to %d item(s)", lt.lettered(cash), tx.Currency, len(lt.allocations))
		if !closing.IsZero() {
			msg += fmt.Sprintf(", closing them with a write-off of %s", closing)
		}
		if lt.remaining.Sign() != 0 {
			msg += fmt.Sprintf(", and wrote off the %s left over", lt.remaining)
		}
		msg += " (" + r.Comment + ")"
	}
	d.Explanation = msg + " " + rs.by
	var learned []matcher.Learning
	if len(lt.customers) == 1 {
		learned = rs.learnFor(lt.customer())
	}
	return rowOutcome{recs: j.recorded(lt.record(rs.decKey, tx, d, lk.byID), rs.st, rs.remainder), learned: learned, msg: msg}
}

// recorded is the row's decision to commit: for the remainder of a
// lettered payment, the payment then shows its letter and this decision
// together, and the message says it was the remainder.
func (j *Job) recorded(rec *decide.DecisionRecord, st decide.StoredTx, remainder bool) []decide.DecisionRecord {
	if remainder {
		shows := decide.WithRemainder(st.Decision, rec.Decision)
		rec.Shows = &shows
		rec.Decision.Explanation = "remainder of the payment lettered by rule " + st.Decision.Rule + ": " + rec.Decision.Explanation
	}
	return []decide.DecisionRecord{*rec}
}

// paidCustomers are the customers of the items and on-account postings of
// the letters that stand for the transaction txKey.
func (j *Job) paidCustomers(ctx context.Context, txKey string) (map[string]bool, error) {
	chain, _, err := j.Store.Letters(ctx, j.Name, txKey)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range chain {
		for _, a := range l.Decision.Allocations {
			if c := l.Items[a.ItemID].CustomerID; c != "" {
				out[c] = true
			}
		}
		for _, p := range l.Decision.Postings {
			if p.Kind == domain.OnAccount && p.CustomerID != "" {
				out[p.CustomerID] = true
			}
		}
	}
	return out, nil
}

// sortedKeys are the keys of a set, sorted.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// lettering is the allocations of one resolution row to open items.
type lettering struct {
	allocations []domain.Allocation
	remaining   domain.Amount   // cash no allocation took
	customers   map[string]bool // the items' customers
	used        map[string]domain.Amount
}

// letterItems allocates tx's cash to the wanted items. An item without an
// amount takes what it still owes, up to the cash left; credit notes are
// netted first so that the invoices can use their cash. With closeFully
// (write_off), every item is closed: what its allocation leaves of its
// residual becomes the allocation's WriteOff. It returns a refusal message
// when the row cannot be applied.
func letterItems(tx domain.Transaction, wanted []parsedItem, byID map[string]domain.OpenItem,
	left map[string]domain.Amount, closeFully bool) (lettering, string) {
	lt := lettering{remaining: tx.Amount, customers: map[string]bool{}, used: map[string]domain.Amount{}}
	for _, w := range wanted {
		it, ok := byID[w.id]
		if !ok {
			return lt, fmt.Sprintf("open item %q does not exist or is no longer open (neither an open item's id nor its document number)", w.id)
		}
		if it.Currency != tx.Currency {
			return lt, fmt.Sprintf("open item %s is in %s, the payment in %s", w.id, it.Currency, tx.Currency)
		}
		if _, twice := lt.used[w.id]; twice {
			return lt, fmt.Sprintf("open item %s named twice", w.id)
		}
		lt.used[w.id] = domain.Amount{}
		lt.customers[it.CustomerID] = true
	}
	// Credit notes first: the cash they add is there for the invoices.
	ordered := make([]parsedItem, 0, len(wanted))
	for _, credits := range []bool{true, false} {
		for _, w := range wanted {
			if (left[w.id].Sign() < 0) == credits {
				ordered = append(ordered, w)
			}
		}
	}
	for _, w := range ordered {
		avail := left[w.id]
		var amt domain.Amount
		if w.amount != nil {
			amt = *w.amount
			if amt.Sign() == 0 || (avail.Sign() > 0 && (amt.Sign() < 0 || amt.Cmp(avail) > 0)) ||
				(avail.Sign() < 0 && (amt.Sign() > 0 || amt.Cmp(avail) < 0)) {
				return lt, fmt.Sprintf("amount %s for %s: its open residual is %s", amt, w.id, avail)
			}
		} else {
			amt = avail
			if avail.Sign() > 0 && avail.Cmp(lt.remaining) > 0 {
				amt = lt.remaining
			}
		}
		if amt.Sign() == 0 || (avail.Sign() > 0 && amt.Sign() < 0) {
			return lt, fmt.Sprintf("nothing left to allocate to %s", w.id)
		}
		lt.remaining = lt.remaining.Sub(amt)
		lt.used[w.id] = amt
		a := domain.Allocation{ItemID: w.id, Amount: amt}
		if wo := avail.Sub(amt); closeFully && !wo.IsZero() {
			a.WriteOff = wo
		}
		lt.allocations = append(lt.allocations, a)
		if lt.remaining.Sign() < 0 {
			// Past the credit notes, the cash left only goes down.
			return lt, fmt.Sprintf("the allocations total %s or more, more than the payment of %s %s",
				tx.Amount.Sub(lt.remaining), tx.Amount, tx.Currency)
		}
	}
	return lt, ""
}

// commit takes the allocations (and write-offs) off the residuals left for
// the next rows of the same file.
func (lt lettering) commit(left map[string]domain.Amount) {
	for _, a := range lt.allocations {
		left[a.ItemID] = left[a.ItemID].Sub(a.Amount).Sub(a.WriteOff)
	}
}

// lettered is the cash the allocations took.
func (lt lettering) lettered(cash domain.Amount) domain.Amount { return cash.Sub(lt.remaining) }

// writtenOff is the total of the allocations' write-offs.
func (lt lettering) writtenOff() domain.Amount {
	var s domain.Amount
	for _, a := range lt.allocations {
		s = s.Add(a.WriteOff)
	}
	return s
}

// customer is the items' customer when there is exactly one.
func (lt lettering) customer() string {
	for c := range lt.customers {
		if len(lt.customers) == 1 {
			return c
		}
	}
	return ""
}

// record is the decision to commit, with the items its allocations name.
func (lt lettering) record(key string, tx domain.Transaction, d domain.Decision, byID map[string]domain.OpenItem) *decide.DecisionRecord {
	rec := &decide.DecisionRecord{Key: key, Tx: &tx, Decision: d, Items: map[string]domain.OpenItem{}}
	for _, a := range lt.allocations {
		rec.Items[a.ItemID] = byID[a.ItemID]
	}
	return rec
}

// DefaultWriteOffLimit is the most one write_off resolution may write off
// (the allocations' write-offs and the write-off posting together), in any
// currency that Job.WriteOffLimits does not name.
var DefaultWriteOffLimit = domain.MustAmount("100")

// writeOffLimit is the job's write-off ceiling in ccy.
func (j *Job) writeOffLimit(ccy string) domain.Amount {
	if l, ok := j.WriteOffLimits[ccy]; ok {
		return l
	}
	return DefaultWriteOffLimit
}

// manualKey is the idempotency key of a resolution row: the same row
// dropped again has the same key, so it is applied once. A resolution the
// ledger refused (a write-off account to configure, a closed period) may be
// dropped again once the cause is fixed: it then gets the next key of a
// series. done is true when the row's resolution was recorded and not
// refused.
func (j *Job) manualKey(ctx context.Context, txKey string, r report.Resolution) (key string, done bool, err error) {
	base := "man-" + decide.ShortHash(strings.Join([]string{j.Name, txKey, r.Action, r.Items, r.Customer, r.Comment}, "\x00"))
	key = base
	for n := 2; ; n++ {
		state, found, err := j.Store.DecisionState(ctx, j.Name, key)
		if err != nil || !found {
			return key, false, err
		}
		if state != decide.DecRejected {
			return key, true, nil
		}
		key = fmt.Sprintf("%s-%d", base, n)
	}
}

// resolutionsJob is the name under which processed resolution files are
// remembered (by content hash) in the files table.
func (j *Job) resolutionsJob() string { return j.Name + "#resolutions" }

// InboxResult says what a pass did with the resolutions inbox.
type InboxResult struct {
	Applied int // workbooks applied (or found applied before)
	// Refused are the workbooks that could not be used, "name: why".
	Refused []string
	// Waiting are workbooks not read yet: still being written (younger
	// than the minimum age, or their size changed since the last listing).
	Waiting int
	// Ignored are lock, owner and temporary files (~$book.xlsx,
	// .~lock.book.xlsx#, *.tmp), never read.
	Ignored int
}

// DefaultInboxMinAge is how long a workbook must be left unchanged before
// the inbox reads it, when Job.InboxMinAge is 0.
const DefaultInboxMinAge = 10 * time.Second

// processInbox applies every new workbook of the resolutions inbox, writes
// its results to ReportDir/resolutions/NAME.result.csv and files it away.
// A workbook whose content was processed before is only filed away. Lock
// and temporary files are ignored; a workbook still being written waits.
func (j *Job) processInbox(ctx context.Context, log *slog.Logger, res *InboxResult) error {
	refs, err := j.Resolutions.List(ctx)
	if err != nil {
		return fmt.Errorf("listing the resolutions inbox: %w", err)
	}
	minAge := j.InboxMinAge
	if minAge == 0 {
		minAge = DefaultInboxMinAge
	}
	sizes := map[string]int64{}
	for _, ref := range refs {
		if report.IsLockOrTemp(ref.Path) {
			res.Ignored++
			j.Metrics.inboxFile(j.Name, "ignored")
			log.Debug("lock or temporary file in the resolutions inbox, ignored", "file", ref.Path)
			continue
		}
		sizes[ref.Path] = ref.Size
		prev, seen := j.inboxSizes[ref.Path]
		young := minAge > 0 && (ref.ModTime.IsZero() && !seen || !ref.ModTime.IsZero() && j.now().Sub(ref.ModTime) < minAge)
		if young || seen && prev != ref.Size {
			res.Waiting++
			j.Metrics.inboxFile(j.Name, "waiting")
			log.Info("resolutions workbook still being written; read on a later run", "file", ref.Path,
				"modified", ref.ModTime, "min_age", minAge)
			continue
		}
		if err := j.processWorkbook(ctx, ref, log, res); err != nil {
			return err
		}
	}
	j.inboxSizes = sizes
	return nil
}

func (j *Job) processWorkbook(ctx context.Context, ref connectors.StatementRef, log *slog.Logger, res *InboxResult) error {
	rc, err := j.Resolutions.Open(ctx, ref)
	if err != nil {
		log.Warn("resolutions file unavailable; retried next run", "file", ref.Path, "err", err)
		return nil
	}
	tmp, err := os.CreateTemp("", "lettrage-resolutions-*"+filepath.Ext(ref.Path))
	if err != nil {
		rc.Close()
		return fmt.Errorf("spooling %q: %w", ref.Path, err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	limit := j.MaxFileBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(rc, limit+1))
	rc.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		err = ErrFileTooLarge
	}
	if err != nil {
		log.Warn("resolutions file unreadable; retried next run", "file", ref.Path, "err", err)
		return nil
	}
	hash := hex.EncodeToString(h.Sum(nil))
	if done, err := j.Store.FileDone(ctx, j.resolutionsJob(), hash); err != nil {
		return err
	} else if done {
		log.Info("resolutions file already applied", "file", ref.Path)
		res.Applied++
		j.Metrics.inboxFile(j.Name, "already_applied")
		_ = j.Resolutions.Archive(ctx, ref)
		return nil
	}
	resultPath := filepath.Join(j.ReportDir, "resolutions", report.ResultPath(filepath.Base(ref.Path)))
	wb, err := report.ReadResolutions(tmp.Name())
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), tmp.Name(), ref.Path)
		_ = report.WriteResolveResults(resultPath, []report.RowResult{{Status: "refused", Message: msg}})
		log.Error("resolutions file refused", "file", ref.Path, "err", msg)
		res.Refused = append(res.Refused, filepath.Base(ref.Path)+": "+msg)
		j.Metrics.inboxFile(j.Name, "refused")
		_ = j.Resolutions.Quarantine(ctx, ref, errors.New(msg))
		return nil
	}
	actor := report.AuthorOf(wb, j.InboxDefaultAuthor)
	results, err := j.resolveLocked(ctx, wb.Rows, ResolveOptions{Actor: actor, Origin: ref.Source + ":" + ref.Path}, log)
	if err != nil {
		return err
	}
	if err := report.WriteResolveResults(resultPath, results); err != nil {
		return err
	}
	if err := j.Store.SaveCommit(ctx, state.Commit{Job: j.resolutionsJob(), At: j.now(),
		Files: []state.FileRecord{{Hash: hash, Source: ref.Source, Path: ref.Path, Status: "processed", Transactions: len(results)}}}); err != nil {
		return err
	}
	res.Applied++
	j.Metrics.inboxFile(j.Name, "applied")
	if err := j.Resolutions.Archive(ctx, ref); err != nil {
		log.Error("archiving resolutions file", "file", ref.Path, "err", err)
	}
	return nil
}
