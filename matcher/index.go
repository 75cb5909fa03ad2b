package matcher

import (
	"slices"
	"sort"
	"strings"
)

// index holds the open items of one Match call and the lookups built over
// them once, so that no rule scans every item for every payment.
type index struct {
	items []*OpenItem // open items (non-zero residual), sorted by ID; not copied
	resid []Amount    // current residual per item, consumed as payments are decided
	// docC and docL are, per item, its compact and loose document numbers
	// ("" when it has none), for the one-typo checks
	docC, docL []string
	// docSorted lists compact document numbers in order, for the prefix
	// search of numbers cut at the end of a remittance line
	docSorted []docKey

	byID       map[string]int32   // item ID → its first item
	byRef      map[string][]int32 // refKey(payment reference) → items
	byDoc      map[string][]int32 // compact and loose document number → items
	byIBAN     map[string][]string
	byCustomer map[string][]int32 // customer → items, oldest due first
	byAmount   map[string][]int32 // currency|residual key → items
	byName     map[string][]string
	byToken    map[string][]string // distinctive name token → customers
	custTokens map[string][][]string
	memIBAN    map[string][]string
	memName    map[string][]string
}

type docKey struct {
	key  string
	item int32
}

// docPrefix returns the items whose compact document number starts with p
// and is longer than p, or nil when more than max do.
func (ix *index) docPrefix(p string, max int) []int32 {
	lo, _ := slices.BinarySearchFunc(ix.docSorted, p, func(d docKey, p string) int { return strings.Compare(d.key, p) })
	var out []int32
	for i := lo; i < len(ix.docSorted) && strings.HasPrefix(ix.docSorted[i].key, p); i++ {
		if len(ix.docSorted[i].key) == len(p) {
			continue
		}
		if len(out) == max {
			return nil
		}
		out = append(out, ix.docSorted[i].item)
	}
	return out
}

// refKey is the lookup form of a payment reference: compact, and for an
// all-digit reference without its leading zeros (QR references are padded).
func refKey(s string) string {
	c := CompactReference(s)
	if isDigits(c) {
		c = strings.TrimLeft(c, "0")
	}
	return c
}

// amountKey is the byAmount key of an amount in a currency.
func amountKey(ccy string, a Amount) string {
	var buf [48]byte
	return string(appendAmountKey(buf[:0], ccy, a))
}

func appendAmountKey(b []byte, ccy string, a Amount) []byte {
	b = append(b, ccy...)
	b = append(b, '|')
	return a.appendKey(b)
}

// maxTokenCustomers bounds the customers listed under one name token: a
// token shared by more companies says little and would cost a scan.
const maxTokenCustomers = 64

// custName is one (customer, name) pair of the book.
type custName struct{ customer, name string }

// custIBAN is one (IBAN, customer) pair of the book.
type custIBAN struct{ iban, customer string }

func newIndex(items []OpenItem, mem Memory) *index { return newIndexWorkers(items, mem, 1) }

// newIndexWorkers builds the index; the per-item keys (normalised
// references, document numbers, amounts) are computed on workers
// goroutines, the maps are filled in item order.
func newIndexWorkers(items []OpenItem, mem Memory, workers int) *index {
	open := 0
	for k := range items {
		if !items[k].Residual.IsZero() {
			open++
		}
	}
	ix := &index{
		byID:       make(map[string]int32, open),
		byRef:      make(map[string][]int32, open/2),
		byDoc:      make(map[string][]int32, open+open/2),
		byIBAN:     map[string][]string{},
		byCustomer: make(map[string][]int32, open/4),
		byAmount:   make(map[string][]int32, open),
		byName:     map[string][]string{},
		byToken:    map[string][]string{},
		custTokens: map[string][][]string{},
		memIBAN:    map[string][]string{},
		memName:    map[string][]string{},
	}
	ix.items = make([]*OpenItem, 0, open)
	for k := range items {
		if items[k].Residual.IsZero() {
			continue
		}
		ix.items = append(ix.items, &items[k])
	}
	sortStableParallel(ix.items, workers, func(a, b *OpenItem) int { return strings.Compare(a.ID, b.ID) })
	n := len(ix.items)
	ix.resid = make([]Amount, n)
	ix.docC = make([]string, n)
	ix.docL = make([]string, n)
	refs := make([]string, n)
	amts := make([]string, n)
	forChunks(n, workers, 4096, func(_, lo, hi int) {
		var buf []byte
		var atoms []refAtom
		for i := lo; i < hi; i++ {
			it := ix.items[i]
			ix.resid[i] = it.Residual
			refs[i] = refKey(it.PaymentReference)
			if it.DocumentNumber != "" {
				f := Fold(it.DocumentNumber)
				ix.docC[i] = strings.ReplaceAll(f, " ", "")
				atoms = atomiseAppend(atoms[:0], f)
				buf = appendLooseAtoms(buf[:0], atoms)
				if string(buf) == ix.docC[i] {
					ix.docL[i] = ix.docC[i]
				} else {
					ix.docL[i] = string(buf)
				}
			}
			buf = appendAmountKey(buf[:0], it.Currency, it.Residual)
			amts[i] = string(buf)
		}
	})
	nameSeen := map[custName]bool{}
	ibanSeen := map[custIBAN]bool{}
	for i, it := range ix.items {
		n := int32(i)
		if _, dup := ix.byID[it.ID]; !dup {
			ix.byID[it.ID] = n
		}
		if k := refs[i]; k != "" {
			ix.byRef[k] = append(ix.byRef[k], n)
		}
		if it.DocumentNumber != "" {
			c, l := ix.docC[i], ix.docL[i]
			if c != "" {
				ix.byDoc[c] = append(ix.byDoc[c], n)
				ix.docSorted = append(ix.docSorted, docKey{c, n})
			}
			if l != "" && l != c {
				ix.byDoc[l] = append(ix.byDoc[l], n)
			}
		}
		ix.byCustomer[it.CustomerID] = append(ix.byCustomer[it.CustomerID], n)
		ix.byAmount[amts[i]] = append(ix.byAmount[amts[i]], n)
		for _, ib := range it.IBANs {
			ib = NormaliseIBAN(ib)
			if ib == "" || ibanSeen[custIBAN{ib, it.CustomerID}] {
				continue
			}
			ibanSeen[custIBAN{ib, it.CustomerID}] = true
			ix.byIBAN[ib] = append(ix.byIBAN[ib], it.CustomerID)
		}
		if it.CustomerName != "" && !nameSeen[custName{it.CustomerID, it.CustomerName}] {
			nameSeen[custName{it.CustomerID, it.CustomerName}] = true
			toks := NameTokens(it.CustomerName)
			if len(toks) == 0 {
				continue
			}
			dup := false
			for _, t := range ix.custTokens[it.CustomerID] {
				dup = dup || slices.Equal(t, toks)
			}
			if dup {
				continue
			}
			key := strings.Join(toks, " ")
			ix.custTokens[it.CustomerID] = append(ix.custTokens[it.CustomerID], toks)
			ix.byName[key] = appendUnique(ix.byName[key], it.CustomerID)
			for _, t := range toks {
				if tokenWeight(t) < 1 {
					continue
				}
				// a token of more than maxTokenCustomers companies is never
				// looked up: stop listing it (and keep the insert cheap)
				if l := ix.byToken[t]; len(l) <= maxTokenCustomers {
					ix.byToken[t] = appendUnique(l, it.CustomerID)
				}
			}
		}
	}
	refs, amts = nil, nil
	slices.SortFunc(ix.docSorted, func(x, y docKey) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return int(x.item) - int(y.item)
	})
	older := func(a, b int32) int {
		if ix.older(a, b) {
			return -1
		}
		if ix.older(b, a) {
			return 1
		}
		return 0
	}
	for _, list := range ix.byCustomer {
		if len(list) > 1 {
			slices.SortStableFunc(list, older)
		}
	}
	for ib, cs := range mem.IBANCustomers {
		k := NormaliseIBAN(ib)
		for _, c := range cs {
			ix.memIBAN[k] = appendUnique(ix.memIBAN[k], c)
		}
	}
	for n, cs := range mem.NameCustomers {
		k := NormaliseName(n)
		for _, c := range cs {
			ix.memName[k] = appendUnique(ix.memName[k], c)
		}
	}
	for _, m := range []map[string][]string{ix.byIBAN, ix.byName, ix.byToken, ix.memIBAN, ix.memName} {
		for _, v := range m {
			if len(v) > 1 {
				slices.Sort(v)
			}
		}
	}
	return ix
}

// older orders items oldest due date first, then issue date, then ID.
func (ix *index) older(a, b int32) bool {
	x, y := ix.items[a], ix.items[b]
	if !x.DueDate.Equal(y.DueDate) {
		return x.DueDate.Before(y.DueDate)
	}
	if !x.IssueDate.Equal(y.IssueDate) {
		return x.IssueDate.Before(y.IssueDate)
	}
	return x.ID < y.ID
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// completeCut returns toks with the cut last word replaced by the one
// token of ct it starts (a name the bank truncated); toks unchanged when
// there is none or several.
func completeCut(toks []string, cut string, ct []string) []string {
	if cut == "" {
		return toks
	}
	full := ""
	for _, t := range ct {
		if len(t) > len(cut) && strings.HasPrefix(t, cut) {
			if full != "" {
				return toks
			}
			full = t
		}
	}
	if full == "" {
		return toks
	}
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t == cut {
			t = full
		}
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// nameMatch is a customer whose name resembles the payer's.
type nameMatch struct {
	customer string
	score    float64
	learned  bool
}

// payerByName returns customers whose name resembles name, best first:
// exact normalised names and learned names score 1.
func (ix *index) payerByName(name string) []nameMatch {
	return slices.Clone(ix.payerByNameWith(name, newScratch()))
}

// payerByNameWith is payerByName with scratch space; the result is the
// scratch's, valid until the next call.
func (ix *index) payerByNameWith(name string, sc *scratch) []nameMatch {
	toks := NameTokens(name)
	if len(toks) == 0 {
		return nil
	}
	// banks cut long names: the last word may be the start of a longer one
	var cut string
	if w, many := lastField(Fold(name)); many && !strings.HasSuffix(name, " ") {
		if len(w) >= 4 && !legalForms[w] {
			cut = w
		}
	}
	key := strings.Join(toks, " ")
	best, seen := sc.best, sc.seen
	clear(best)
	clear(seen)
	for _, c := range ix.memName[key] {
		best[c] = nameMatch{customer: c, score: 1, learned: true}
	}
	for _, c := range ix.byName[key] {
		if _, ok := best[c]; !ok {
			best[c] = nameMatch{customer: c, score: 1}
		}
	}
	for _, t := range toks {
		cs := ix.byToken[t]
		if len(cs) > maxTokenCustomers {
			continue
		}
		for _, c := range cs {
			if seen[c] {
				continue
			}
			seen[c] = true
			if _, ok := best[c]; ok {
				continue
			}
			s := 0.0
			for _, ct := range ix.custTokens[c] {
				if v := tokenSimilarity(completeCut(toks, cut, ct), ct); v > s {
					s = v
				}
			}
			if s > 0 {
				best[c] = nameMatch{customer: c, score: s}
			}
		}
	}
	out := sc.out[:0]
	for _, m := range best {
		out = append(out, m)
	}
	slices.SortFunc(out, cmpNameMatch)
	sc.out = out
	return out
}

// cmpNameMatch orders name matches best first, then by customer.
func cmpNameMatch(a, b nameMatch) int {
	switch {
	case a.score > b.score:
		return -1
	case a.score < b.score:
		return 1
	}
	return strings.Compare(a.customer, b.customer)
}

// lastField returns the last space-separated field of s and whether s has
// more than one.
func lastField(s string) (string, bool) {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		end--
	}
	start := end
	for start > 0 && s[start-1] != ' ' {
		start--
	}
	if start == end {
		return "", false
	}
	for i := start - 1; i >= 0; i-- {
		if s[i] != ' ' {
			return s[start:end], true
		}
	}
	return s[start:end], false
}
