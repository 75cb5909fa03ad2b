package matcher

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lettrage/lettrage/domain"
)

// goldenCase is one folder of testdata/cases.
type goldenCase struct {
	Items        []domain.OpenItem
	Transactions []domain.Transaction
	Memory       Memory
	Config       Config
	Expected     goldenExpected
}

type goldenExpected struct {
	Decisions []goldenDecision `json:"decisions"`
	// Learned, when present, must equal Output.Learned.
	Learned *[]Learning `json:"learned"`
}

type goldenDecision struct {
	TxKey       string              `json:"tx_key"`
	Outcome     domain.Outcome      `json:"outcome"`
	Rule        string              `json:"rule"`
	Reason      string              `json:"reason"`
	Allocations []domain.Allocation `json:"allocations"`
	Excess      string              `json:"excess"`
	MinConf     float64             `json:"min_confidence"`
	MaxConf     float64             `json:"max_confidence"`
	UnletterKey string              `json:"unletter_key"`
	// Candidates, when present, are the expected candidate item ids in order.
	Candidates []string `json:"candidates"`
	// Explains lists substrings the explanation must contain.
	Explains []string `json:"explains"`
	// Postings, when present, are the expected postings in order.
	Postings *[]domain.Posting `json:"postings"`
}

// goldenConfig is the optional config.json: changes to DefaultConfig.
type goldenConfig struct {
	AutoThreshold *float64    `json:"auto_threshold"`
	SameAmount    *string     `json:"same_amount"`
	Tolerances    []Tolerance `json:"tolerances"`
	DueWindowDays *int        `json:"due_window_days"`
	FX            []FXRule    `json:"fx"`
	// the policies of issue 14
	CashDiscounts    []CashDiscount `json:"cash_discount"`
	Overpayment      *string        `json:"overpayment"`
	DuplicatePayment *string        `json:"duplicate_payment"`
}

// goldenMemory is the optional memory.json.
type goldenMemory struct {
	IBANCustomers map[string][]string            `json:"iban_customers"`
	NameCustomers map[string][]string            `json:"name_customers"`
	Lettered      map[string][]domain.Allocation `json:"lettered"`
	LetteredRefs  map[string]string              `json:"lettered_refs"`
	Settled       []domain.OpenItem              `json:"settled"`
}

func readJSON(t *testing.T, path string, v any, optional bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		if optional && os.IsNotExist(err) {
			return
		}
		t.Fatalf("reading %s: %v", path, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

// loadCase reads a case folder. Transactions default to booked EUR credits
// and items to EUR, so that fixtures only say what matters.
func loadCase(t *testing.T, dir string) goldenCase {
	t.Helper()
	var c goldenCase
	var rawItems, rawTxs []json.RawMessage
	readJSON(t, filepath.Join(dir, "items.json"), &rawItems, false)
	readJSON(t, filepath.Join(dir, "transactions.json"), &rawTxs, false)
	for i, r := range rawItems {
		it := domain.OpenItem{Currency: "EUR"}
		if err := json.Unmarshal(r, &it); err != nil {
			t.Fatalf("decoding item %d of %s: %v", i, dir, err)
		}
		c.Items = append(c.Items, it)
	}
	for i, r := range rawTxs {
		tx := domain.Transaction{Currency: "EUR", Credit: true, Status: "BOOK"}
		if err := json.Unmarshal(r, &tx); err != nil {
			t.Fatalf("decoding transaction %d of %s: %v", i, dir, err)
		}
		c.Transactions = append(c.Transactions, tx)
	}
	var gc goldenConfig
	readJSON(t, filepath.Join(dir, "config.json"), &gc, true)
	c.Config = DefaultConfig()
	if gc.AutoThreshold != nil {
		c.Config.AutoThreshold = *gc.AutoThreshold
	}
	if gc.SameAmount != nil {
		c.Config.SameAmount = *gc.SameAmount
	}
	if gc.DueWindowDays != nil {
		c.Config.DueWindowDays = *gc.DueWindowDays
	}
	c.Config.Tolerances = gc.Tolerances
	c.Config.FX = gc.FX
	c.Config.CashDiscounts = gc.CashDiscounts
	if gc.Overpayment != nil {
		c.Config.Overpayment = *gc.Overpayment
	}
	if gc.DuplicatePayment != nil {
		c.Config.DuplicatePayment = *gc.DuplicatePayment
	}
	var gm goldenMemory
	readJSON(t, filepath.Join(dir, "memory.json"), &gm, true)
	for i := range gm.Settled {
		if gm.Settled[i].Currency == "" {
			gm.Settled[i].Currency = "EUR"
		}
	}
	c.Memory = Memory(gm)
	readJSON(t, filepath.Join(dir, "expected.json"), &c.Expected, false)
	return c
}

func allocString(allocs []domain.Allocation) string {
	s := make([]string, len(allocs))
	for i, a := range allocs {
		s[i] = fmt.Sprintf("%s:%s", a.ItemID, a.Amount.Key())
		if !a.WriteOff.IsZero() {
			s[i] += "/wo" + a.WriteOff.Key()
		}
		if a.CrossCurrency() {
			s[i] += "/" + a.ItemCurrency + a.ItemAmount.Key()
		}
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func postingString(ps []domain.Posting) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%s:%s:%s:%s:%s:%s", p.Kind, p.CustomerID, p.ItemID, p.Amount.Key(), p.Account, p.Reason)
	}
	return strings.Join(s, " ")
}

func candString(c []domain.Candidate) string {
	s := make([]string, len(c))
	for i, x := range c {
		s[i] = x.ItemID
	}
	return strings.Join(s, " ")
}

// TestGoldenCases walks testdata/cases: each folder holds items.json,
// transactions.json, expected.json and optionally config.json and
// memory.json. Every case is also run on shuffled inputs, which must give
// the same decisions, and is checked against the allocation invariants.
func TestGoldenCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadCase(t, dir)
			in := Input{Transactions: c.Transactions, Items: c.Items, Memory: c.Memory, Config: c.Config}
			out := Match(in)
			if len(out.Decisions) != len(c.Transactions) {
				t.Fatalf("%d decisions for %d transactions", len(out.Decisions), len(c.Transactions))
			}
			if len(c.Expected.Decisions) != len(c.Transactions) {
				t.Fatalf("expected.json lists %d decisions for %d transactions", len(c.Expected.Decisions), len(c.Transactions))
			}
			for i, want := range c.Expected.Decisions {
				got := out.Decisions[i]
				checkDecision(t, want, got)
			}
			if c.Expected.Learned != nil && (len(*c.Expected.Learned) > 0 || len(out.Learned) > 0) {
				want, _ := json.Marshal(*c.Expected.Learned)
				got, _ := json.Marshal(out.Learned)
				if string(want) != string(got) {
					t.Errorf("learned = %s, want %s", got, want)
				}
			}
			checkInvariants(t, in, out)
			checkShuffled(t, in, out, 3)
		})
	}
}

func checkDecision(t *testing.T, want goldenDecision, got domain.Decision) {
	t.Helper()
	if got.TxKey != want.TxKey {
		t.Errorf("decision for %q, want %q", got.TxKey, want.TxKey)
		return
	}
	ctx := fmt.Sprintf("%s (%s)", want.TxKey, got.Explanation)
	if got.Outcome != want.Outcome {
		t.Errorf("%s: outcome %s, want %s", ctx, got.Outcome, want.Outcome)
	}
	if want.Rule != "" && got.Rule != want.Rule {
		t.Errorf("%s: rule %s, want %s", ctx, got.Rule, want.Rule)
	}
	if got.Reason != want.Reason {
		t.Errorf("%s: reason %q, want %q", ctx, got.Reason, want.Reason)
	}
	if a, b := allocString(got.Allocations), allocString(want.Allocations); a != b {
		t.Errorf("%s: allocations [%s], want [%s]", ctx, a, b)
	}
	wantExcess := domain.MustAmount("0")
	if want.Excess != "" {
		wantExcess = domain.MustAmount(want.Excess)
	}
	if !got.Excess.Equal(wantExcess) {
		t.Errorf("%s: excess %s, want %s", ctx, got.Excess, wantExcess)
	}
	maxC := want.MaxConf
	if maxC == 0 {
		maxC = 1
	}
	if got.Confidence < want.MinConf || got.Confidence > maxC {
		t.Errorf("%s: confidence %.3f outside [%.2f, %.2f]", ctx, got.Confidence, want.MinConf, maxC)
	}
	if got.UnletterKey != want.UnletterKey {
		t.Errorf("%s: unletter key %q, want %q", ctx, got.UnletterKey, want.UnletterKey)
	}
	if want.Candidates != nil {
		if a, b := candString(got.Candidates), strings.Join(want.Candidates, " "); a != b {
			t.Errorf("%s: candidates [%s], want [%s]", ctx, a, b)
		}
	}
	if want.Postings != nil {
		if a, b := postingString(got.Postings), postingString(*want.Postings); a != b {
			t.Errorf("%s: postings [%s], want [%s]", ctx, a, b)
		}
	}
	for _, s := range want.Explains {
		if !strings.Contains(got.Explanation, s) {
			t.Errorf("%s: explanation lacks %q", ctx, s)
		}
	}
	if got.Explanation == "" {
		t.Errorf("%s: empty explanation", want.TxKey)
	}
}

// checkInvariants verifies the properties every output must have: one
// decision per transaction in order; allocations + excess = payment for
// automatic decisions; no item allocated beyond its residual; confidence
// and scores in [0,1]; automatic only above the threshold.
func checkInvariants(t *testing.T, in Input, out Output) {
	t.Helper()
	resid := map[string]domain.Amount{}
	for _, it := range in.Items {
		resid[it.ID] = it.Residual
	}
	used := map[string]domain.Amount{}
	for i, d := range out.Decisions {
		tx := in.Transactions[i]
		if d.TxKey != tx.Key {
			t.Fatalf("decision %d is for %q, want %q", i, d.TxKey, tx.Key)
		}
		if d.Confidence < 0 || d.Confidence > 1 {
			t.Errorf("%s: confidence %v", tx.Key, d.Confidence)
		}
		for _, c := range d.Candidates {
			if c.Score < 0 || c.Score > 1 {
				t.Errorf("%s: candidate score %v", tx.Key, c.Score)
			}
		}
		if d.Outcome != domain.Auto {
			if len(d.Allocations)+len(d.Postings) > 0 {
				t.Errorf("%s: %s decision with allocations or postings", tx.Key, d.Outcome)
			}
			continue
		}
		// postings: cash on account counts with the allocations; a cash
		// discount closes its item without cash
		for _, p := range d.Postings {
			if p.Amount.Sign() <= 0 {
				t.Errorf("%s: %s posting of %s", tx.Key, p.Kind, p.Amount)
			}
			switch p.Kind {
			case domain.OnAccount:
				if p.CustomerID == "" || p.ItemID != "" {
					t.Errorf("%s: on-account posting %+v", tx.Key, p)
				}
			case domain.CashDiscountPosting:
				if _, ok := resid[p.ItemID]; !ok || p.Account == "" || p.CustomerID == "" {
					t.Errorf("%s: cash discount %+v", tx.Key, p)
				}
				used[p.ItemID] = used[p.ItemID].Add(p.Amount)
			default:
				t.Errorf("%s: the matcher made a %s posting", tx.Key, p.Kind)
			}
		}
		if d.Confidence < in.Config.AutoThreshold {
			t.Errorf("%s: auto at confidence %v below threshold", tx.Key, d.Confidence)
		}
		sum := d.Excess
		for _, p := range d.Postings {
			if p.Kind.IsCash() {
				sum = sum.Add(p.Amount)
			}
		}
		if d.Excess.Sign() < 0 {
			t.Errorf("%s: negative excess", tx.Key)
		}
		// credit notes netted by the payment make more cash available to
		// the invoices it settles
		limit := tx.Amount
		for _, a := range d.Allocations {
			if a.Amount.Sign() < 0 {
				limit = limit.Sub(a.Amount)
			}
		}
		for _, a := range d.Allocations {
			sum = sum.Add(a.Amount)
			r, ok := resid[a.ItemID]
			if !ok {
				t.Errorf("%s: allocation to unknown item %s", tx.Key, a.ItemID)
				continue
			}
			if a.Amount.Sign() != r.Sign() || a.WriteOff.Sign() < 0 {
				t.Errorf("%s: allocation %s to %s of residual %s has the wrong sign", tx.Key, a.Amount, a.ItemID, r)
			}
			if a.Amount.Cmp(limit) > 0 {
				t.Errorf("%s: allocation %s exceeds the payment %s and the credit notes it nets", tx.Key, a.Amount, tx.Amount)
			}
			used[a.ItemID] = used[a.ItemID].Add(a.Settles())
		}
		if !sum.Equal(tx.Amount) {
			t.Errorf("%s: allocations + postings + excess = %s, payment %s", tx.Key, sum, tx.Amount)
		}
	}
	for id, u := range used {
		if u.Abs().Cmp(resid[id].Abs()) > 0 {
			t.Errorf("item %s allocated %s beyond its residual %s", id, u, resid[id])
		}
	}
}

// checkShuffled runs Match on shuffled copies of in and requires the same
// decision for every transaction key and the same learned facts.
func checkShuffled(t *testing.T, in Input, out Output, rounds int) {
	t.Helper()
	want := map[string]string{}
	for _, d := range out.Decisions {
		b, _ := json.Marshal(d)
		want[d.TxKey] = string(b)
	}
	wantLearned, _ := json.Marshal(out.Learned)
	rng := rand.New(rand.NewSource(1))
	for r := 0; r < rounds; r++ {
		s := in
		s.Transactions = append([]domain.Transaction(nil), in.Transactions...)
		s.Items = append([]domain.OpenItem(nil), in.Items...)
		rng.Shuffle(len(s.Transactions), func(i, j int) { s.Transactions[i], s.Transactions[j] = s.Transactions[j], s.Transactions[i] })
		rng.Shuffle(len(s.Items), func(i, j int) { s.Items[i], s.Items[j] = s.Items[j], s.Items[i] })
		got := Match(s)
		for _, d := range got.Decisions {
			b, _ := json.Marshal(d)
			if want[d.TxKey] != string(b) {
				t.Fatalf("shuffled input changed the decision for %s:\n got  %s\n want %s", d.TxKey, b, want[d.TxKey])
			}
		}
		if l, _ := json.Marshal(got.Learned); string(l) != string(wantLearned) {
			t.Fatalf("shuffled input changed what was learned: %s, want %s", l, wantLearned)
		}
	}
}
