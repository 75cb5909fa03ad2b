package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/lettrage/lettrage/connectors/camt"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline"
)

// inspectTx is one JSON Lines object of `lettrage inspect`: a transaction
// as the matcher sees it, with where it came from and the bank's details.
type inspectTx struct {
	Kind        string             `json:"kind"` // "transaction"
	File        string             `json:"file"`
	StatementID string             `json:"statement_id"`
	Statement   int                `json:"statement_index"`
	Document    int                `json:"document"` // 1-based document of the file the statement is in
	EntryIndex  int                `json:"entry_index"`
	TxRef       string             `json:"tx_ref"`
	Transaction domain.Transaction `json:"transaction"`
	Entry       *camt.Entry        `json:"entry"`
	Detail      *camt.TxDetail     `json:"detail,omitempty"`
	// Identity is what the identity rule decides for the transaction, the
	// files named being read in order (docs/FORMATS.md): new, or set aside
	// as a re-delivery, a batch entry covered by its details…
	Identity pipeline.Verdict `json:"identity"`
}

// inspectSetAside reports a transaction of an earlier file that the file
// just read sets aside (a batch entry whose details it holds).
type inspectSetAside struct {
	Kind     string           `json:"kind"` // "set_aside"
	File     string           `json:"file"` // the file that set it aside
	Identity pipeline.Verdict `json:"identity"`
}

// inspectStatement closes each statement: balances, declared totals and
// the consistency-check results.
type inspectStatement struct {
	Kind      string          `json:"kind"` // "statement"
	File      string          `json:"file"`
	Type      string          `json:"message"` // of the statement's document
	Statement *camt.Statement `json:"statement"`
}

// fileSummary is the per-file summary (stderr, or stdout with --summary).
type fileSummary struct {
	File         string            `json:"file"`
	Message      string            `json:"message"` // the documents' messages, comma separated when they differ
	Documents    int               `json:"documents"`
	Statements   int               `json:"statements"`
	Entries      int               `json:"entries"`
	Transactions int               `json:"transactions"`
	Credits      map[string]string `json:"credits"` // total per currency
	Debits       map[string]string `json:"debits"`
	ChecksFailed []string          `json:"checks_failed"`
}

func inspectFile(path string, opts camt.Options, summaryOnly bool, trail *pipeline.IdentityTrail, enc *json.Encoder, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("inspecting %q: %w", path, err)
	}
	defer f.Close()
	sum := fileSummary{File: path, Credits: map[string]string{}, Debits: map[string]string{}, ChecksFailed: []string{}}
	credits, debits := map[string]domain.Amount{}, map[string]domain.Amount{}
	// The transactions of the file are kept until it ends: the identity
	// rule decides for all of them at once.
	var objs []inspectTx
	var all []domain.Transaction
	file, err := camt.Parse(f, path, opts, func(st *camt.Statement, e *camt.Entry, txs []domain.Transaction) error {
		sum.Entries++
		for i, tx := range txs {
			sum.Transactions++
			if tx.Credit {
				credits[tx.Currency] = credits[tx.Currency].Add(tx.Amount)
			} else {
				debits[tx.Currency] = debits[tx.Currency].Add(tx.Amount)
			}
			if summaryOnly {
				continue
			}
			obj := inspectTx{Kind: "transaction", File: path, StatementID: st.ID, Statement: st.Index, Document: st.Document,
				EntryIndex: e.Index, TxRef: tx.Ref, Transaction: tx, Entry: entryHeader(e)}
			if i < len(e.Transactions) && len(e.Transactions) == len(txs) {
				obj.Detail = e.Transactions[i]
			}
			objs = append(objs, obj)
		}
		if !summaryOnly {
			all = append(all, txs...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var verdicts, earlier []pipeline.Verdict
	if !summaryOnly {
		verdicts, earlier = trail.File(path, all)
	}
	for i := range objs {
		objs[i].Identity = verdicts[i]
		if err := enc.Encode(objs[i]); err != nil {
			return fmt.Errorf("writing JSON: %w", err)
		}
	}
	for _, v := range earlier {
		if err := enc.Encode(inspectSetAside{Kind: "set_aside", File: path, Identity: v}); err != nil {
			return fmt.Errorf("writing JSON: %w", err)
		}
	}
	sum.Message = file.Type + ".001." + file.Version
	sum.Statements = len(file.Statements)
	var messages []string
	for _, st := range file.Statements {
		if m := st.Message + ".001." + st.Version; !slices.Contains(messages, m) {
			messages = append(messages, m)
		}
		sum.Documents = max(sum.Documents, st.Document)
	}
	if len(messages) > 0 {
		sum.Message = strings.Join(messages, ", ")
	}
	for _, st := range file.Statements {
		for _, c := range st.Checks {
			if !c.OK {
				sum.ChecksFailed = append(sum.ChecksFailed, fmt.Sprintf("%s[%d] %s: expected %s, got %s", st.ID, st.Index, c.Name, c.Expected, c.Actual))
			}
		}
		if !summaryOnly {
			if err := enc.Encode(inspectStatement{Kind: "statement", File: path, Type: st.Message + ".001." + st.Version, Statement: st}); err != nil {
				return fmt.Errorf("writing JSON: %w", err)
			}
		}
	}
	for c, a := range credits {
		sum.Credits[c] = a.String()
	}
	for c, a := range debits {
		sum.Debits[c] = a.String()
	}
	if summaryOnly {
		return enc.Encode(sum)
	}
	docs := ""
	if sum.Documents > 1 {
		docs = fmt.Sprintf(" in %d documents", sum.Documents)
	}
	fmt.Fprintf(stderr, "%s: %s, %d statement(s)%s, %d entries, %d transactions, credits %s, debits %s, %s\n",
		path, sum.Message, sum.Statements, docs, sum.Entries, sum.Transactions, totals(sum.Credits), totals(sum.Debits), checksText(sum.ChecksFailed))
	return nil
}

// entryHeader is the entry without its transaction details (each JSON line
// carries its own detail).
func entryHeader(e *camt.Entry) *camt.Entry {
	h := *e
	h.Transactions = nil
	h.Projected = nil
	return &h
}

func totals(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, m[k]+" "+k)
	}
	return strings.Join(parts, " + ")
}

func checksText(failed []string) string {
	if len(failed) == 0 {
		return "checks ok"
	}
	return fmt.Sprintf("%d check(s) failed: %s", len(failed), strings.Join(failed, "; "))
}
