package matcher

import (
	"sort"
	"strings"
)

// index holds the open items of one Match call and the lookups built over
// them once, so that no rule scans every item for every payment.
type index struct {
	items []*OpenItem // open items (non-zero residual), sorted by ID; not copied
	resid []Amount    // current residual per item, consumed as payments are decided
	// docSorted lists compact document numbers in order, for the prefix
	// search of numbers cut at the end of a remittance line
	docSorted []docKey

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
	lo := sort.Search(len(ix.docSorted), func(i int) bool { return ix.docSorted[i].key >= p })
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

func amountKey(ccy string, a Amount) string { return ccy + "|" + a.Key() }

// maxTokenCustomers bounds the customers listed under one name token: a
// token shared by more companies says little and would cost a scan.
const maxTokenCustomers = 64

func newIndex(items []OpenItem, mem Memory) *index {
	ix := &index{
		byRef:      make(map[string][]int32, len(items)/2),
		byDoc:      make(map[string][]int32, 2*len(items)),
		byIBAN:     map[string][]string{},
		byCustomer: make(map[string][]int32, len(items)/4),
		byAmount:   make(map[string][]int32, len(items)),
		byName:     map[string][]string{},
		byToken:    map[string][]string{},
		custTokens: map[string][][]string{},
		memIBAN:    map[string][]string{},
		memName:    map[string][]string{},
	}
	ix.items = make([]*OpenItem, 0, len(items))
	for k := range items {
		if items[k].Residual.IsZero() {
			continue
		}
		ix.items = append(ix.items, &items[k])
	}
	sort.SliceStable(ix.items, func(a, b int) bool { return ix.items[a].ID < ix.items[b].ID })
	ix.resid = make([]Amount, len(ix.items))
	nameSeen := map[string]bool{}
	ibanSeen := map[string]bool{}
	for i := range ix.items {
		it := ix.items[i]
		n := int32(i)
		ix.resid[i] = it.Residual
		if k := refKey(it.PaymentReference); k != "" {
			ix.byRef[k] = append(ix.byRef[k], n)
		}
		if it.DocumentNumber != "" {
			c, l := NormaliseDocument(it.DocumentNumber), NormaliseDocumentLoose(it.DocumentNumber)
			if c != "" {
				ix.byDoc[c] = append(ix.byDoc[c], n)
				ix.docSorted = append(ix.docSorted, docKey{c, n})
			}
			if l != "" && l != c {
				ix.byDoc[l] = append(ix.byDoc[l], n)
			}
		}
		ix.byCustomer[it.CustomerID] = append(ix.byCustomer[it.CustomerID], n)
		ak := amountKey(it.Currency, it.Residual)
		ix.byAmount[ak] = append(ix.byAmount[ak], n)
		for _, ib := range it.IBANs {
			ib = NormaliseIBAN(ib)
			if ib == "" || ibanSeen[ib+"\x00"+it.CustomerID] {
				continue
			}
			ibanSeen[ib+"\x00"+it.CustomerID] = true
			ix.byIBAN[ib] = append(ix.byIBAN[ib], it.CustomerID)
		}
		if it.CustomerName != "" && !nameSeen[it.CustomerID+"\x00"+it.CustomerName] {
			nameSeen[it.CustomerID+"\x00"+it.CustomerName] = true
			toks := NameTokens(it.CustomerName)
			if len(toks) == 0 {
				continue
			}
			key := strings.Join(toks, " ")
			dup := false
			for _, t := range ix.custTokens[it.CustomerID] {
				dup = dup || strings.Join(t, " ") == key
			}
			if dup {
				continue
			}
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
	sort.Slice(ix.docSorted, func(a, b int) bool {
		x, y := ix.docSorted[a], ix.docSorted[b]
		if x.key != y.key {
			return x.key < y.key
		}
		return x.item < y.item
	})
	for c, list := range ix.byCustomer {
		sort.SliceStable(list, func(a, b int) bool { return ix.older(list[a], list[b]) })
		ix.byCustomer[c] = list
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
		for k, v := range m {
			sort.Strings(v)
			m[k] = v
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
	toks := NameTokens(name)
	if len(toks) == 0 {
		return nil
	}
	// banks cut long names: the last word may be the start of a longer one
	var cut string
	if f := strings.Fields(Fold(name)); len(f) > 1 && !strings.HasSuffix(name, " ") {
		if w := f[len(f)-1]; len(w) >= 4 && !legalForms[w] {
			cut = w
		}
	}
	key := strings.Join(toks, " ")
	best := map[string]nameMatch{}
	for _, c := range ix.memName[key] {
		best[c] = nameMatch{customer: c, score: 1, learned: true}
	}
	for _, c := range ix.byName[key] {
		if _, ok := best[c]; !ok {
			best[c] = nameMatch{customer: c, score: 1}
		}
	}
	seen := map[string]bool{}
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
	out := make([]nameMatch, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].score != out[b].score {
			return out[a].score > out[b].score
		}
		return out[a].customer < out[b].customer
	})
	return out
}
