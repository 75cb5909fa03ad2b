package matcher

import (
	"slices"
	"sort"
	"strings"

	"github.com/lettrage/lettrage/domain"
)

// index holds the open items of one Match call and the lookups built over
// them once, so that no rule scans every item for every payment.
type index struct {
	// items are the open items (non-zero residual), sorted by ID, then,
	// from nOpen on, the settled items of Memory.Settled that are not open
	// (sorted by ID too): those are only looked up by reference and
	// document number, with a residual of zero. Not copied.
	items []*domain.OpenItem
	nOpen int
	resid []domain.Amount // current residual per item, consumed as payments are decided
	// docC and docL are, per item, its compact and loose document numbers
	// ("" when it has none), for the one-typo checks
	docC, docL []string
	// docSorted lists compact document numbers in order, for the prefix
	// search of numbers cut at the end of a remittance line
	docSorted []docKey

	byID  map[string]int32 // item ID → its first item
	byRef keyItems         // refKey(payment reference) → items
	byDoc keyItems         // compact and loose document number, and digitsKey → items
	// refFilter and docFilter say cheaply which keys byRef and byDoc lack
	refFilter, docFilter keyFilter
	// docMinLen and docMaxLen bound the lengths of the compact and loose
	// numbers in byDoc (a text n-gram of another length names none);
	// hasDigitsKeys says whether byDoc holds digitsKey forms
	docMinLen, docMaxLen int
	hasDigitsKeys        bool
	byIBAN               map[string][]string
	byCustomer           map[string][]int32      // customer → items, oldest due first
	byAmount             keyItems                // currency|residual key → items
	byName               map[string][]*custEntry // normalised name → customers, by ID
	byToken              map[string][]*custEntry // distinctive name token → customers, by ID
	memIBAN              map[string][]string
	memName              map[string][]string
	// typos is the one-edit lookup of document numbers (typoindex.go)
	typos *typoIndex
}

// custEntry is a customer and the name tokens of each of its names, kept
// together for the name lookup of every payment.
type custEntry struct {
	id string
	// toks are the tokens of all its names, one name after the other;
	// ends[i] is where name i's end, nil when it has one name
	toks []string
	ends []int32
}

// names calls fn with the tokens of each name of the customer.
func (ce *custEntry) names(fn func(ct []string)) {
	if ce.ends == nil {
		fn(ce.toks[:len(ce.toks):len(ce.toks)])
		return
	}
	start := int32(0)
	for _, end := range ce.ends {
		fn(ce.toks[start:end:end])
		start = end
	}
}

// addName adds the tokens of a name (sharing key's text).
func (ce *custEntry) addName(toks []string, key string) {
	if len(ce.toks) > 0 && ce.ends == nil {
		ce.ends = []int32{int32(len(ce.toks))}
	}
	off := 0
	for _, t := range toks {
		ce.toks = append(ce.toks, key[off:off+len(t)])
		off += len(t) + 1
	}
	if ce.ends != nil {
		ce.ends = append(ce.ends, int32(len(ce.toks)))
	}
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
	c := domain.CompactReference(s)
	if domain.IsDigits(c) {
		c = strings.TrimLeft(c, "0")
	}
	return c
}

// amountKey is the byAmount key of an amount in a currency.
func amountKey(ccy string, a domain.Amount) string {
	var buf [48]byte
	return string(appendAmountKey(buf[:0], ccy, a))
}

func appendAmountKey(b []byte, ccy string, a domain.Amount) []byte {
	b = append(b, ccy...)
	b = append(b, '|')
	return a.AppendKey(b)
}

// maxTokenCustomers bounds the customers listed under one name token: a
// token shared by more companies says little and would cost a scan.
const maxTokenCustomers = 64

func newIndex(items []domain.OpenItem, mem Memory) *index { return newIndexWorkers(items, mem, 1) }

// newIndexWorkers builds the index. The per-item keys (normalised
// references, document numbers, amounts) are computed on workers
// goroutines; then each group of maps is filled by a goroutine of its own,
// in item order, so that the index does not depend on workers.
func newIndexWorkers(items []domain.OpenItem, mem Memory, workers int) *index {
	open := 0
	for k := range items {
		if !items[k].Residual.IsZero() {
			open++
		}
	}
	ix := &index{}
	ix.items = make([]*domain.OpenItem, 0, open)
	for k := range items {
		if items[k].Residual.IsZero() {
			continue
		}
		ix.items = append(ix.items, &items[k])
	}
	byID := func(a, b *domain.OpenItem) int { return strings.Compare(a.ID, b.ID) }
	sortStableParallel(ix.items, workers, byID)
	ix.nOpen = len(ix.items)
	if len(mem.Settled) > 0 {
		var closed []*domain.OpenItem
		for k := range mem.Settled {
			it := &mem.Settled[k]
			if _, open := slices.BinarySearchFunc(ix.items[:ix.nOpen], it, byID); !open && it.ID != "" {
				closed = append(closed, it)
			}
		}
		slices.SortStableFunc(closed, byID)
		closed = slices.CompactFunc(closed, func(a, b *domain.OpenItem) bool { return a.ID == b.ID })
		ix.items = append(ix.items, closed...)
	}
	n := len(ix.items)
	ix.resid = make([]domain.Amount, n)
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
			if i >= ix.nOpen {
				ix.resid[i] = domain.Amount{} // settled
			}
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
	digits := make([]string, n)
	forChunks(n, workers, 4096, func(_, lo, hi int) {
		var atoms []refAtom
		for i := lo; i < hi; i++ {
			if d := ix.items[i].DocumentNumber; d != "" {
				atoms = atomiseAppend(atoms[:0], Fold(d))
				digits[i] = digitsKey(atoms)
			}
		}
	})
	// the one-item lists of byDoc, byRef and byAmount (keyItems)
	self := selfList(n)
	groups := []func(){
		func() { ix.typos = ix.buildTypoIndex(workers) },
		func() { ix.buildPayers(mem) },
		func() { ix.buildAmounts(amts, self) },
		func() { ix.buildDocs(refs, digits, self) },
		func() { ix.buildIBANs(mem) },
	}
	forChunks(len(groups), workers, 1, func(_, lo, _ int) { groups[lo]() })
	return ix
}

// digitsKey is the lookup form of a document number written without its
// prefix and with the leading zeros of its digit groups dropped, as payers
// type it ("REF 2025-560" for FA-2025-000560): "#" and the groups without
// their leading zeros, joined by "-" ("#2025-560"). "" when the number has
// no letter prefix, fewer than two digit groups, letters after its first
// digits, or fewer than 6 digits so written: such a form would name too
// many things (a date, an amount, a year).
func digitsKey(atoms []refAtom) string {
	var b []byte
	groups, digits, prefix := 0, 0, false
	for _, a := range atoms {
		if !a.digit {
			if groups > 0 {
				return ""
			}
			prefix = true
			continue
		}
		if groups == 0 {
			b = append(b, '#')
		} else {
			b = append(b, '-')
		}
		n := len(b)
		b = appendLooseDigits(b, a.s)
		digits += len(b) - n
		groups++
	}
	if !prefix || groups < 2 || digits < 6 {
		return ""
	}
	return string(b)
}

// textDigitsKey is digitsKey for a run of digit atoms of a remittance
// text, atoms[i:j+1], joined by spaces, dashes or slashes (not dots nor
// commas: decimals and dates) and not part of a longer such run; "" when
// it is not one.
func textDigitsKey(atoms []refAtom, i, j int) string {
	if j-i < 1 || i > 0 && atoms[i-1].digit && (atoms[i].glued || atoms[i].light) ||
		j+1 < len(atoms) && atoms[j+1].digit && (atoms[j+1].glued || atoms[j+1].light) {
		return ""
	}
	b := []byte{'#'}
	digits := 0
	for k := i; k <= j; k++ {
		a := atoms[k]
		if !a.digit || k > i && (!a.light || a.dotted) {
			return ""
		}
		if k > i {
			b = append(b, '-')
		}
		n := len(b)
		b = appendLooseDigits(b, a.s)
		digits += len(b) - n
	}
	if digits < 6 {
		return ""
	}
	return string(b)
}

// buildDocs fills byID, byRef, byDoc and docSorted; self is the
// one-item lists of keyItems.
func (ix *index) buildDocs(refs, digits []string, self []int32) {
	n := len(ix.items)
	ix.byID = make(map[string]int32, n)
	docKeys := 0
	for i, it := range ix.items {
		if it.DocumentNumber != "" {
			docKeys += min(1, len(ix.docC[i])) + min(1, len(ix.docL[i])) // at most: a loose number like the compact one is not added
			if i < ix.nOpen {
				docKeys += min(1, len(digits[i]))
			}
		}
	}
	ix.byDoc = newKeyItems(docKeys, self)
	ix.byRef = newKeyItems(n/2, self)
	ix.docSorted = make([]docKey, 0, n)
	for i, it := range ix.items {
		n := int32(i)
		if _, dup := ix.byID[it.ID]; !dup {
			ix.byID[it.ID] = n
		}
		if k := refs[i]; k != "" {
			ix.byRef.add(k, n)
		}
		if it.DocumentNumber != "" {
			c, l := ix.docC[i], ix.docL[i]
			if c != "" {
				ix.byDoc.add(c, n)
				if i < ix.nOpen {
					ix.docSorted = append(ix.docSorted, docKey{c, n})
				}
			}
			if l != "" && l != c {
				ix.byDoc.add(l, n)
			}
			if d := digits[i]; d != "" && i < ix.nOpen {
				ix.byDoc.add(d, n)
			}
		}
	}
	ix.refFilter = newKeyFilter(ix.byRef.len())
	for k := range ix.byRef.m {
		ix.refFilter.add(k)
	}
	ix.docFilter = newKeyFilter(ix.byDoc.len())
	ix.docMinLen, ix.docMaxLen = 1<<30, 0
	for k := range ix.byDoc.m {
		ix.docFilter.add(k)
		if k[0] == '#' {
			ix.hasDigitsKeys = true
			continue
		}
		ix.docMinLen, ix.docMaxLen = min(ix.docMinLen, len(k)), max(ix.docMaxLen, len(k))
	}
	slices.SortFunc(ix.docSorted, func(x, y docKey) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return int(x.item) - int(y.item)
	})
}

// buildAmounts fills byCustomer (oldest due first) and byAmount; self is
// the one-item lists of keyItems.
func (ix *index) buildAmounts(amts []string, self []int32) {
	n := len(ix.items)
	ix.byAmount = newKeyItems(n, self)
	// customers are numbered as first met, their items listed per number:
	// one map access per item
	num := make(map[string]int32, n/4)
	var lists [][]int32
	for i, it := range ix.items[:ix.nOpen] {
		c, ok := num[it.CustomerID]
		if !ok {
			c = int32(len(lists))
			num[it.CustomerID] = c
			lists = append(lists, nil)
		}
		lists[c] = append(lists[c], int32(i))
		ix.byAmount.add(amts[i], int32(i))
	}
	older := func(a, b int32) int {
		if ix.older(a, b) {
			return -1
		}
		if ix.older(b, a) {
			return 1
		}
		return 0
	}
	ix.byCustomer = make(map[string][]int32, len(lists))
	for id, c := range num {
		list := lists[c]
		if len(list) > 1 {
			slices.SortStableFunc(list, older)
		}
		ix.byCustomer[id] = list
	}
}

// buildIBANs fills the IBAN lookups, from the items and from what Memory
// learned.
func (ix *index) buildIBANs(mem Memory) {
	ix.byIBAN = make(map[string][]string, len(ix.items)/4)
	for _, it := range ix.items[:ix.nOpen] {
		for _, ib := range it.IBANs {
			ib = NormaliseIBAN(ib)
			if ib == "" {
				continue
			}
			if l := ix.byIBAN[ib]; !slices.Contains(l, it.CustomerID) {
				ix.byIBAN[ib] = append(l, it.CustomerID)
			}
		}
	}
	for _, v := range ix.byIBAN {
		if len(v) > 1 {
			slices.Sort(v)
		}
	}
	ix.learnIBANs(mem)
}

// learnIBANs fills the lookup of the IBANs Memory learned.
func (ix *index) learnIBANs(mem Memory) {
	ix.memIBAN = make(map[string][]string, len(mem.IBANCustomers))
	for ib, cs := range mem.IBANCustomers {
		k := NormaliseIBAN(ib)
		for _, c := range cs {
			ix.memIBAN[k] = appendUnique(ix.memIBAN[k], c)
		}
	}
	for _, v := range ix.memIBAN {
		if len(v) > 1 {
			slices.Sort(v)
		}
	}
}

// buildPayers fills the name lookups, from the items and from what Memory
// learned.
func (ix *index) buildPayers(mem Memory) {
	ix.byName = make(map[string][]*custEntry, len(ix.items)/4)
	ix.byToken = make(map[string][]*custEntry, len(ix.items)/8)
	type custNames struct {
		entry *custEntry
		names []string // names met, tokenised or not
	}
	custs := make(map[string]*custNames, len(ix.items)/4)
	for _, it := range ix.items[:ix.nOpen] {
		if it.CustomerName == "" {
			continue
		}
		cn := custs[it.CustomerID]
		if cn == nil {
			cn = &custNames{entry: &custEntry{id: it.CustomerID}}
			custs[it.CustomerID] = cn
		}
		if slices.Contains(cn.names, it.CustomerName) {
			continue
		}
		cn.names = append(cn.names, it.CustomerName)
		toks := NameTokens(it.CustomerName)
		if len(toks) == 0 {
			continue
		}
		dup := false
		cn.entry.names(func(ct []string) { dup = dup || slices.Equal(ct, toks) })
		if dup {
			continue
		}
		key := strings.Join(toks, " ")
		cn.entry.addName(toks, key)
		if l := ix.byName[key]; !slices.Contains(l, cn.entry) {
			ix.byName[key] = append(l, cn.entry)
		}
		for _, t := range toks {
			if tokenWeight(t) < 1 {
				continue
			}
			// a token of more than maxTokenCustomers companies is never
			// looked up: stop listing it (and keep the insert cheap)
			if l := ix.byToken[t]; len(l) <= maxTokenCustomers && !slices.Contains(l, cn.entry) {
				ix.byToken[t] = append(l, cn.entry)
			}
		}
	}
	byID := func(a, b *custEntry) int { return strings.Compare(a.id, b.id) }
	for _, m := range []map[string][]*custEntry{ix.byName, ix.byToken} {
		for _, v := range m {
			if len(v) > 1 {
				slices.SortFunc(v, byID)
			}
		}
	}
	ix.learnNames(mem)
}

// learnNames fills the lookup of the payer names Memory learned.
func (ix *index) learnNames(mem Memory) {
	ix.memName = make(map[string][]string, len(mem.NameCustomers))
	for n, cs := range mem.NameCustomers {
		k := NormaliseName(n)
		for _, c := range cs {
			ix.memName[k] = appendUnique(ix.memName[k], c)
		}
	}
	for _, v := range ix.memName {
		if len(v) > 1 {
			slices.Sort(v)
		}
	}
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
	// extends: the customer's name holds every token of the payer's and
	// more, so the payer's may be it cut short
	extends bool
}

// payerByName returns customers whose name resembles name, best first:
// exact normalised names and learned names score 1.
func (ix *index) payerByName(name string) []nameMatch {
	return slices.Clone(ix.payerByNameWith(name, newScratch()))
}

// payerByNameWith is payerByName with scratch space; the result is the
// scratch's, valid until the next call.
func (ix *index) payerByNameWith(name string, sc *scratch) []nameMatch {
	folded := Fold(name)
	toks := foldedNameTokens(folded)
	if len(toks) == 0 {
		return nil
	}
	// banks cut long names: the last word may be the start of a longer one
	var cut string
	if w, many := lastField(folded); many && !strings.HasSuffix(name, " ") {
		if len(w) >= 4 && !legalForms[w] {
			cut = w
		}
	}
	key := strings.Join(toks, " ")
	// exact normalised names and learned names first; seen marks the
	// customers already scored
	out := sc.out[:0]
	seen := sc.seen
	clear(seen)
	learned := ix.memName[key]
	for _, c := range learned {
		out = append(out, nameMatch{customer: c, score: 1, learned: true})
	}
	// isLearned reports whether c is among the learned: a scan for a few, a
	// set for many
	learnedSet := sc.learned
	if len(learned) > 8 {
		for _, c := range learned {
			learnedSet[c] = true
		}
		defer clear(learnedSet)
	}
	isLearned := func(c string) bool {
		switch {
		case len(learned) == 0:
			return false
		case len(learned) > 8:
			return learnedSet[c]
		}
		return slices.Contains(learned, c)
	}
	for _, ce := range ix.byName[key] {
		seen[ce] = true
		if !isLearned(ce.id) {
			out = append(out, nameMatch{customer: ce.id, score: 1})
		}
	}
	for _, t := range toks {
		cs := ix.byToken[t]
		if len(cs) > maxTokenCustomers {
			continue
		}
		for _, ce := range cs {
			if seen[ce] {
				continue
			}
			seen[ce] = true
			if isLearned(ce.id) {
				continue
			}
			s, ext := 0.0, false
			ce.names(func(ct []string) {
				pt := completeCut(toks, cut, ct)
				if v := tokenSimilarity(pt, ct); v > s {
					s = v
				}
				ext = ext || extendsTokens(pt, ct)
			})
			if s > 0 {
				out = append(out, nameMatch{customer: ce.id, score: s, extends: ext})
			}
		}
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

// remittedItems returns the items (open or settled) a document of a
// payer's split names: those whose number is the document's as written
// (compact), else once leading zeros are dropped, else those whose payment
// reference is the document's reference.
func (ix *index) remittedItems(d *domain.RemittedDocument) []int32 {
	if d.Number != "" {
		f := Fold(d.Number)
		c := strings.ReplaceAll(f, " ", "")
		var out []int32
		for _, n := range ix.byDoc.get(c) {
			if ix.docC[n] == c {
				out = append(out, n)
			}
		}
		if len(out) > 0 {
			return out
		}
		l := looseAtoms(atomise(f))
		for _, n := range ix.byDoc.get(l) {
			if ix.docL[n] == l {
				out = append(out, n)
			}
		}
		if len(out) > 0 || d.Reference == "" {
			return out
		}
	}
	if d.Reference != "" {
		return slices.Clone(ix.byRef.get(refKey(d.Reference)))
	}
	return nil
}
