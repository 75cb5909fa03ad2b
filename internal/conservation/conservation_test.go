package conservation

import (
	"bytes"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

func TestGenerateIsReproducible(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		a, b := Generate(seed), Generate(seed)
		if a.String() != b.String() || len(a.Files) != len(b.Files) {
			t.Fatalf("seed %d: two schedules", seed)
		}
		for i := range a.Files {
			if a.Files[i].Name != b.Files[i].Name || !bytes.Equal(a.Files[i].Data, b.Files[i].Data) {
				t.Fatalf("seed %d: file %d differs", seed, i)
			}
		}
	}
	if Generate(1).String() == Generate(2).String() {
		t.Fatal("seeds 1 and 2 give the same schedule")
	}
}

// perfect is what a stateless pass that reports every credit would leave.
func perfect(s *Schedule) Observed {
	o := Observed{ListsSetAside: true, SetAside: map[string]int{}, UnmatchedCash: map[string]domain.Amount{}}
	add := func(account, day int, amount domain.Amount, payer, state, reason string) {
		acc := s.Accounts[account]
		t := Tx{Account: acc.IBAN, Currency: acc.Currency, Day: s.Days[day], Amount: amount, Payer: payer, State: state, Reason: reason}
		if state == Exception {
			t.Reported, t.Unallocated = true, amount
			o.UnmatchedCash[acc.Currency] = o.UnmatchedCash[acc.Currency].Add(amount)
		}
		if state == Covered {
			o.SetAside[reason]++
		}
		o.Txs = append(o.Txs, t)
	}
	for _, p := range s.Payments {
		if p.Credit {
			add(p.Account, p.Day, p.Amount, p.Payer, Exception, "no_candidate")
		}
	}
	for _, b := range s.Batches {
		switch {
		case b.Inline:
		case b.Notified:
			add(b.Account, b.Day, b.Amount, "", Covered, ReasonCoveredByDetails)
		case b.Listed:
			add(b.Account, b.Day, b.Amount, "", Exception, "no_candidate")
		default:
			add(b.Account, b.Day, b.Amount, "", Exception, ReasonBatchNoDetails)
		}
		if b.Inline || b.Notified {
			for _, d := range b.Details {
				add(d.Account, d.Day, d.Amount, d.Payer, Exception, "no_candidate")
			}
		}
	}
	return o
}

// TestOracleRejects: the oracle accepts what accounts for every credit
// once, and rejects a credit lost, counted twice, lettered twice, a wrong
// unmatched cash, a batch counted beside its details and a wrong set-aside
// count.
func TestOracleRejects(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		s := Generate(seed)
		if err := Check(s, perfect(s), MatchMode, 0); err != nil {
			t.Fatalf("seed %d: a perfect outcome is rejected: %v\n%s", seed, err, s)
		}
		for name, spoil := range map[string]func(o *Observed) bool{
			"a credit lost": func(o *Observed) bool {
				o.UnmatchedCash[o.Txs[0].Currency] = o.UnmatchedCash[o.Txs[0].Currency].Sub(o.Txs[0].Amount)
				o.Txs = o.Txs[1:]
				return true
			},
			"a credit counted twice": func(o *Observed) bool {
				o.UnmatchedCash[o.Txs[0].Currency] = o.UnmatchedCash[o.Txs[0].Currency].Add(o.Txs[0].Amount)
				o.Txs = append(o.Txs, o.Txs[0])
				return true
			},
			"a credit lettered twice": func(o *Observed) bool {
				t := &o.Txs[0]
				o.UnmatchedCash[t.Currency] = o.UnmatchedCash[t.Currency].Sub(t.Amount)
				t.State, t.Reason, t.Reported, t.Unallocated, t.Letters, t.Allocated = Lettered, "", false, domain.Amount{}, 2, t.Amount
				return true
			},
			"unmatched cash off by a cent": func(o *Observed) bool {
				c := o.Txs[0].Currency
				o.UnmatchedCash[c] = o.UnmatchedCash[c].Add(domain.MustAmount("0.01"))
				return true
			},
			"a covered batch entry reported too": func(o *Observed) bool {
				for i := range o.Txs {
					if t := &o.Txs[i]; t.State == Covered {
						o.SetAside[t.Reason]--
						t.State, t.Reason, t.Reported, t.Unallocated = Exception, "no_candidate", true, t.Amount
						o.UnmatchedCash[t.Currency] = o.UnmatchedCash[t.Currency].Add(t.Amount)
						return true
					}
				}
				return false
			},
			"a set-aside count": func(o *Observed) bool {
				o.SetAside[ReasonCoveredByDetails]++
				return true
			},
		} {
			o := perfect(s)
			if len(o.Txs) == 0 || !spoil(&o) {
				continue
			}
			if Check(s, o, MatchMode, 0) == nil {
				t.Errorf("seed %d: %s is accepted", seed, name)
			}
		}
	}
}
