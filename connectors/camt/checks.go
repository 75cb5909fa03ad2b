package camt

import (
	"fmt"
	"strconv"

	"github.com/lettrage/lettrage/domain"
)

// tally accumulates what the consistency checks compare with the bank's
// declared totals and balances.
type tally struct {
	count, credits, debits   int
	sum, creditSum, debitSum domain.Amount
	bookedNet                domain.Amount
	bookedCcy                map[string]bool
	batch                    []batchMismatch
}

type batchMismatch struct{ entry, declared, details int }

func (t *tally) add(e *Entry) {
	// One TxDtls without an amount under a Btch is a batch summary, not a
	// detail: only real details are counted against NbOfTxs.
	n := len(e.Transactions)
	if n == 1 && txCash(e.Transactions[0]) == nil {
		n = 0
	}
	t.addCounted(e, n)
}

// addCounted is add for an entry of n real details (its Transactions may
// be left out: the one-layer decode).
func (t *tally) addCounted(e *Entry, n int) {
	t.count++
	t.sum = t.sum.Add(e.Amount)
	if e.Credit {
		t.credits++
		t.creditSum = t.creditSum.Add(e.Amount)
	} else {
		t.debits++
		t.debitSum = t.debitSum.Add(e.Amount)
	}
	if e.Status == "BOOK" || e.Status == "" {
		if t.bookedCcy == nil {
			t.bookedCcy = map[string]bool{}
		}
		t.bookedCcy[e.Currency] = true
		if e.Credit {
			t.bookedNet = t.bookedNet.Add(e.Amount)
		} else {
			t.bookedNet = t.bookedNet.Sub(e.Amount)
		}
	}
	if e.BatchCount > 0 && n > 0 && e.BatchCount != n {
		t.batch = append(t.batch, batchMismatch{e.Index, e.BatchCount, n})
	}
}

func countCheck(name string, want *int, got int) []Check {
	if want == nil {
		return nil
	}
	return []Check{{Name: name, OK: *want == got, Expected: strconv.Itoa(*want), Actual: strconv.Itoa(got)}}
}

func sumCheck(name string, want *domain.Amount, got domain.Amount) []Check {
	if want == nil {
		return nil
	}
	return []Check{{Name: name, OK: want.Equal(got), Expected: want.String(), Actual: got.String()}}
}

func findBalance(st *Statement, codes ...string) *Balance {
	for _, c := range codes {
		for i := range st.Balances {
			if st.Balances[i].Code == c {
				return &st.Balances[i]
			}
		}
	}
	return nil
}

// checks compares the tally with TxsSummry, the opening and closing booked
// balances, and batch counts. Failed checks do not reject the statement.
func (t *tally) checks(st *Statement) []Check {
	var out []Check
	if s := st.Summary; s != nil {
		out = append(out, countCheck("entry_count", s.Count, t.count)...)
		out = append(out, sumCheck("entry_sum", s.Sum, t.sum)...)
		if s.Net != nil {
			out = append(out, sumCheck("net", s.Net, t.creditSum.Sub(t.debitSum))...)
		}
		out = append(out, countCheck("credit_count", s.CreditCount, t.credits)...)
		out = append(out, sumCheck("credit_sum", s.CreditSum, t.creditSum)...)
		out = append(out, countCheck("debit_count", s.DebitCount, t.debits)...)
		out = append(out, sumCheck("debit_sum", s.DebitSum, t.debitSum)...)
	}
	open := findBalance(st, "OPBD", "PRCD")
	closing := findBalance(st, "CLBD")
	if open != nil && closing != nil {
		c := Check{Name: "balance"}
		sameCcy := open.Currency == closing.Currency
		for ccy := range t.bookedCcy {
			if ccy != open.Currency {
				sameCcy = false
			}
		}
		if !sameCcy {
			c.OK = true
			c.Detail = "not checked: balances and entries in different currencies"
		} else {
			want := *closing.signed
			got := open.signed.Add(t.bookedNet)
			c.OK = want.Equal(got)
			c.Expected, c.Actual = want.String(), got.String()
			c.Detail = fmt.Sprintf("%s %s + booked credits - booked debits vs CLBD", open.Code, open.signed)
		}
		out = append(out, c)
	}
	if len(t.batch) > 0 {
		for _, b := range t.batch {
			out = append(out, Check{Name: "batch_count", OK: false, Expected: strconv.Itoa(b.declared),
				Actual: strconv.Itoa(b.details), Detail: fmt.Sprintf("entry %d: Btch/NbOfTxs vs TxDtls", b.entry)})
		}
	}
	return out
}
