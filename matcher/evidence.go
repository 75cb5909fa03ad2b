package matcher

import (
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/lettrage/lettrage/domain"
)

// refHit is an open item whose payment reference appears in a transaction.
type refHit struct {
	item  int32
	value string // the reference as found, compact
	valid bool   // its check digits hold for some scheme
}

// docHit is an open item whose document number appears in a transaction.
type docHit struct {
	item  int32
	text  string // the matching text, compact
	loose bool   // matched only once leading zeros were dropped
}

// evidence is what one transaction tells about its open items, gathered
// before any residual is consumed. It is read-only once gathered: the
// prefetcher (prefetch.go) reads it while the decisions are made.
type evidence struct {
	akey string // currency|amount key of the transaction
	refs []refHit
	docs []docHit
	// remit are, per document of the payer's split (tx.Remitted, in
	// order), the items its number or reference names; nil when the
	// transaction has no split
	remit [][]int32
	// payer identity
	iban     string
	ibanCust []string // customers known for the payer IBAN (sorted)
	names    []nameMatch
	payer    []string // customers the payer is identified as (sorted)
	payerHow string   // how, for explanations
	// tx is the transaction, whose texts give the n-grams of the one-typo
	// document checks (rebuilt when needed: see engine.typoMatch)
	tx *domain.Transaction
	// rare holds what few transactions have (see evidenceRare); nil when
	// none of it is set. Read it with r, write it with w.
	rare        *evidenceRare
	tier        int8
	ibanLearned bool // true when only Memory knows the IBAN
	payerStrong bool
}

// evidenceRare is the part of a transaction's evidence that few
// transactions have: a side record, so that the evidence of every
// transaction, all live at once while matching, stays small (216 bytes,
// a 224-byte allocation, instead of 376 in a 384-byte one on 64-bit:
// ≈ 150 MB at 1,000,000 transactions).
type evidenceRare struct {
	// cut are items whose document number starts with the text that ends
	// a remittance cut at a 35/140-character boundary
	cut     []int32
	cutText string
	// typos are open items of exactly the amount whose document number is
	// one edit away from a text n-gram
	typos []int32
	// digits are open items whose number the text writes without its
	// prefix and the leading zeros of its groups ("REF 2025-560" for
	// FA-2025-000560: digitsKey), with the text
	digits     []int32
	digitsText string
	// payerTypos are open items of the payer's customers, not of the
	// amount, whose document number is one edit away from a text n-gram
	// ("Reglement FA-2025-8239995 et suivantes" for a combination): the
	// text may mean them, so other payments' inferred allocations leave
	// them alone (they count as designated, never exactly)
	payerTypos []int32
	// longer are customers, not among payer, whose names hold every word
	// of a payer identified by name and more: the payer's name may be
	// theirs cut short (best first)
	longer []nameMatch
}

// noRare is the empty side record r returns for evidence without one:
// read only.
var noRare evidenceRare

// r returns ev's side record for reading: the empty one when ev has none.
func (ev *evidence) r() *evidenceRare {
	if ev.rare == nil {
		return &noRare
	}
	return ev.rare
}

// w returns ev's side record for writing, allocating it the first time.
func (ev *evidence) w() *evidenceRare {
	if ev.rare == nil {
		ev.rare = new(evidenceRare)
	}
	return ev.rare
}

// Evidence tiers: transactions of a higher tier are decided first.
const (
	tierNone = iota
	tierPayer
	tierDocument
	tierReference
)

// fullLine reports whether a remittance line has a length at which banks
// cut text (35 or 140 characters), so the next line may continue a word.
func fullLine(s string) bool { n := utf8.RuneCountInString(s); return n == 35 || n == 140 }

// joinLines joins remittance lines, gluing a line to the next without a
// space when it was cut at a 35/140-character boundary.
func joinLines(lines []string) string { return string(appendJoinedLines(nil, lines)) }

// appendJoinedLines appends to dst the lines joined as joinLines does.
func appendJoinedLines(dst []byte, lines []string) []byte {
	for i, l := range lines {
		if i > 0 && !fullLine(lines[i-1]) {
			dst = append(dst, ' ')
		}
		dst = append(dst, l...)
	}
	return dst
}

// txTexts returns the free-text fields of tx in a fixed order. The slice
// and the joined remittance lines are the scratch's (no copy of the
// transaction's text per transaction): valid until the next txTexts with
// sc, and never kept in evidence (copy what is kept).
func txTexts(tx *domain.Transaction, sc *scratch) []string {
	out := sc.texts[:0]
	for _, r := range tx.Structured {
		out = append(out, r.Value)
	}
	out = append(out, tx.Documents...)
	if len(tx.Unstructured) > 0 {
		sc.jb = appendJoinedLines(sc.jb[:0], tx.Unstructured)
		out = append(out, view(sc.jb))
	}
	out = append(out, tx.Additional...)
	if e := tx.EndToEndID; e != "" && !strings.EqualFold(e, "NOTPROVIDED") {
		out = append(out, e)
	}
	sc.texts = out
	return out
}

// view returns b as a string without copying it: the string is only valid
// while b's bytes are not overwritten, and must not be kept beyond that
// (the scratch buffers it is used on are rewritten for the next text or
// transaction). It spares the collector a copy of each transaction's text
// per gathering step.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// fold returns Fold(t) in the scratch's buffer (a view, see view: valid
// until the next fold with sc).
func (sc *scratch) fold(t string) string {
	sc.fb = appendFold(sc.fb[:0], t)
	return view(sc.fb)
}

// maxGramAtoms and maxGramLen bound the text n-grams looked up as document
// numbers.
const (
	maxGramAtoms = 8
	maxGramLen   = 40
	minGramLen   = 3
	maxGrams     = 256
)

type span struct{ text, from, to int }

func isDigitBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// forTextGrams calls fn with the compact n-grams of at least 5 characters
// of texts, at most maxGrams in all, in order: for each text, each run of
// up to maxGramAtoms atoms glued or lightly separated, of up to
// maxGramLen characters, from each atom. The slice fn gets is the
// scratch's, valid during the call.
func forTextGrams(texts []string, sc *scratch, fn func(g []byte)) {
	buf := sc.cb[:0]
	count := 0
	for _, t := range texts {
		atoms := atomiseAppend(sc.atoms[:0], sc.fold(t))
		sc.atoms = atoms
		for i := range atoms {
			buf = buf[:0]
			for j := i; j < len(atoms) && j < i+maxGramAtoms; j++ {
				if j > i && !atoms[j].glued && !atoms[j].light {
					break
				}
				buf = append(buf, atoms[j].s...)
				if len(buf) > maxGramLen {
					break
				}
				if len(buf) >= 5 {
					if count >= maxGrams {
						clear(sc.atoms)
						sc.atoms, sc.cb = sc.atoms[:0], buf[:0]
						return
					}
					count++
					fn(buf)
				}
			}
		}
	}
	clear(sc.atoms)
	sc.atoms, sc.cb = sc.atoms[:0], buf[:0]
}

// appendTextGrams appends to grams the n-grams forTextGrams gives, as
// strings sharing one backing string, for typo checks of single items.
func appendTextGrams(grams []string, texts []string, sc *scratch) []string {
	// gathered in the scratch's buffers, then one string for them all
	all, cuts := sc.gb[:0], sc.cuts[:0]
	forTextGrams(texts, sc, func(g []byte) {
		all = append(all, g...)
		cuts = append(cuts, len(all))
	})
	s := string(all)
	sc.gb, sc.cuts = all[:0], cuts[:0]
	from := 0
	for _, to := range cuts {
		grams = append(grams, s[from:to])
		from = to
	}
	return grams
}

func (s span) within(o span) bool {
	return s.text == o.text && s.from >= o.from && s.to <= o.to && (s.from != o.from || s.to != o.to)
}

// scratch is one goroutine's reusable buffers for gathering evidence: the
// evidence itself never points into them.
type scratch struct {
	// for the typo lookup: the hits, the variant hashes of an n-gram
	typoHits            []int32
	hashes, hashScratch []uint64
	atoms               []refAtom
	cb, lb              []byte
	// fb, ub and jb hold a text folded (fold), upper-cased
	// (referenceCandidatesWith) and the remittance lines joined (txTexts),
	// and texts the texts of the transaction being gathered: reused from
	// one text and transaction to the next, seen through views
	fb, ub, jb []byte
	texts      []string
	// gb and cuts gather a transaction's n-grams (appendTextGrams)
	gb      []byte
	cuts    []int
	grams   []string
	hits    []docScan
	seen    map[*custEntry]bool
	learned map[string]bool
	names   map[string]int
	out     []nameMatch
}

// docScan is a document number found while scanning a transaction's texts.
type docScan struct {
	item  int32
	sp    span
	loose bool
	text  string
}

func newScratch() *scratch {
	return &scratch{seen: map[*custEntry]bool{}, learned: map[string]bool{}, names: map[string]int{}}
}

// gather collects the evidence of one transaction. It only reads the
// index, so transactions can be gathered concurrently, each goroutine with
// its own scratch.
func (e *engine) gather(tx *domain.Transaction) *evidence { return e.gatherWith(tx, newScratch()) }

// gatherWith is gather with the goroutine's scratch: the references, the
// document numbers (as written, without their prefix and zeros, cut at the
// end of the text), the payer's split, the payer's identity, the typos,
// then the evidence's tier.
func (e *engine) gatherWith(tx *domain.Transaction, sc *scratch) *evidence {
	ev := &evidence{akey: amountKey(tx.Currency, tx.Amount), tx: tx}
	texts := txTexts(tx, sc)
	e.gatherRefs(ev, tx, texts, sc)
	e.gatherDocs(ev, tx, texts, sc)
	e.gatherRemitted(ev, tx)
	e.gatherCut(ev, tx, sc)
	e.gatherIBAN(ev, tx)
	e.gatherNames(ev, tx, sc)
	ev.identifyPayer()
	// a document number one character away from an open item of exactly
	// the amount (only when no number is found as written)
	if !ev.strongDoc() {
		e.gatherTypos(ev, texts, sc)
	}
	ev.tier = int8(tierOf(ev))
	return ev
}

// gatherRefs reads tx's structured references and the reference candidates
// of its texts, and writes ev.refs: the items whose payment reference they
// are, valid hits first.
func (e *engine) gatherRefs(ev *evidence, tx *domain.Transaction, texts []string, sc *scratch) {
	if e.ix.byRef.len() == 0 {
		return
	}
	for _, r := range tx.Structured {
		if c := domain.CompactReference(r.Value); c != "" {
			e.addRef(ev, []byte(c), false)
		}
	}
	for _, t := range texts {
		sc.atoms = referenceCandidatesWith(t, sc.atoms, &sc.cb, &sc.ub, func(c []byte) {
			if len(c) >= 4 {
				e.addRef(ev, c, true)
			}
		})
	}
	// a valid hit beats an invalid one for the same item: sort valid first
	slices.SortStableFunc(ev.refs, func(a, b refHit) int {
		switch {
		case a.valid == b.valid:
			return 0
		case a.valid:
			return -1
		}
		return 1
	})
}

// addRef appends to ev.refs the items whose payment reference is cb (a
// compact reference, digits compared without their leading zeros), once
// each; free tells it was found in free text, where a short number is only
// a hint.
func (e *engine) addRef(ev *evidence, cb []byte, free bool) {
	ix := e.ix
	k := cb
	if isDigitBytes(k) {
		for len(k) > 0 && k[0] == '0' {
			k = k[1:]
		}
	}
	if !mayContain(&ix.refFilter, k) {
		return
	}
	hits := ix.byRef.get(string(k))
	if len(hits) == 0 {
		return
	}
	c := string(cb)
	for _, n := range hits {
		if slices.ContainsFunc(ev.refs, func(r refHit) bool { return r.item == n }) {
			continue
		}
		ev.refs = append(ev.refs, refHit{item: n, value: c, valid: refValid(c, free)})
	}
}

// refValid reports whether reference c, found in free text or not, counts
// as valid: its check digits hold for some scheme, and in free text it is
// not a number below 6 digits (an amount, a date passes a check digit by
// chance).
func refValid(c string, free bool) bool {
	return len(Schemes(c)) > 0 && !(free && domain.IsDigits(c) && len(c) < 6)
}

// docScanner looks up a transaction's n-grams in the index of document
// numbers. It reads the index and writes hits (the numbers found, with
// their spans) and, for numbers written without their prefix and zeros,
// ev.r().digits and ev.r().digitsText; cb and lb are its buffers, from the scratch.
type docScanner struct {
	ix     *index
	ev     *evidence
	sc     *scratch
	hits   []docScan
	cb, lb []byte
}

// gatherDocs reads tx's texts (and, when a cut line may have hidden a
// number, its lines one by one) and writes ev.docs, the items whose
// document number appears (an outer match hides those within it), and
// ev.r().digits.
func (e *engine) gatherDocs(ev *evidence, tx *domain.Transaction, texts []string, sc *scratch) {
	d := docScanner{ix: e.ix, ev: ev, sc: sc, hits: sc.hits[:0], cb: sc.cb[:0], lb: sc.lb[:0]}
	for ti, t := range texts {
		d.scan(ti, t, true)
	}
	if len(d.hits) == 0 && len(tx.Unstructured) > 1 && slices.ContainsFunc(tx.Unstructured[:len(tx.Unstructured)-1], fullLine) {
		// a cut line glued to the next may have hidden a number: read the
		// lines one by one too (lines are otherwise joined by a space, and
		// their n-grams were all read in the joined text)
		for li, l := range tx.Unstructured {
			d.scan(len(texts)+li, l, false)
		}
	}
	sc.cb, sc.lb = d.cb, d.lb
	ev.docs = appendOuterDocs(ev.docs, d.hits)
	clear(d.hits) // drop the strings the scratch would keep alive
	sc.hits = d.hits[:0]
}

// appendOuterDocs appends to docs the items of hits not found within the
// span of another hit, once each.
func appendOuterDocs(docs []docHit, hits []docScan) []docHit {
	for a, h := range hits {
		inner := false
		for b, o := range hits {
			if a != b && h.sp.within(o.sp) {
				inner = true
				break
			}
		}
		if inner || slices.ContainsFunc(docs, func(d docHit) bool { return d.item == h.item }) {
			continue
		}
		docs = append(docs, docHit{item: h.item, text: h.text, loose: h.loose})
	}
	return docs
}

// scan looks up the n-grams of text number ti; with digits, it also looks
// for numbers written without their prefix and zeros.
func (d *docScanner) scan(ti int, t string, digits bool) {
	atoms := atomiseAppend(d.sc.atoms[:0], d.sc.fold(t))
	d.sc.atoms = atoms
	for i := range atoms {
		d.scanFrom(ti, atoms, i)
	}
	if !digits || !d.ix.hasDigitsKeys {
		return
	}
	d.scanDigits(t, atoms)
}

// scanFrom looks up the n-grams of text ti that start at atom i, as
// written and with the leading zeros of their digit groups dropped, and
// appends what it finds to d.hits.
func (d *docScanner) scanFrom(ti int, atoms []refAtom, i int) {
	ix := d.ix
	cb, lb := d.cb[:0], d.lb[:0]
	hc, hl := keyHashStart, keyHashStart
	for j := i; j < len(atoms) && j < i+maxGramAtoms; j++ {
		a := atoms[j]
		if j > i && !a.glued && !a.light {
			break
		}
		cb = append(cb, a.s...)
		hc = keyHashAdd(hc, a.s)
		n := len(lb)
		if a.digit {
			lb = appendLooseDigits(lb, a.s)
		} else {
			lb = append(lb, a.s...)
		}
		hl = keyHashAdd(hl, lb[n:])
		if len(cb) > maxGramLen || len(lb) > ix.docMaxLen {
			break // longer than any number, and only growing
		}
		if len(cb) < minGramLen {
			continue
		}
		if len(cb) >= ix.docMinLen && len(cb) <= ix.docMaxLen && ix.docFilter.mayContainHash(keyHashEnd(hc)) {
			if ns := ix.byDoc.get(string(cb)); len(ns) > 0 {
				text := string(cb)
				for _, n := range ns {
					// the key may be another number's with its
					// leading zeros dropped: found so, not as written
					d.hits = append(d.hits, docScan{item: n, text: text, sp: span{ti, i, j}, loose: ix.docC[n] != text})
				}
			}
		}
		if len(lb) >= ix.docMinLen && string(lb) != string(cb) && ix.docFilter.mayContainHash(keyHashEnd(hl)) {
			if ns := ix.byDoc.get(string(lb)); len(ns) > 0 {
				text := string(cb)
				for _, n := range ns {
					d.hits = append(d.hits, docScan{item: n, text: text, sp: span{ti, i, j}, loose: true})
				}
			}
		}
	}
	d.cb, d.lb = cb, lb
}

// scanDigits looks up the maximal runs of digit groups of text t (atoms)
// as numbers written without their prefix and zeros, and adds the items
// found to ev.r().digits (with t as ev.r().digitsText).
func (d *docScanner) scanDigits(t string, atoms []refAtom) {
	ix, ev := d.ix, d.ev
	digitRuns(atoms, func(k string) {
		if !mayContain(&ix.docFilter, []byte(k)) {
			return
		}
		for _, n := range ix.byDoc.get(k) {
			if !slices.Contains(ev.r().digits, n) {
				ev.w().digits = append(ev.r().digits, n)
				ev.w().digitsText = strings.Clone(strings.TrimSpace(t)) // t may be a view
			}
		}
	})
}

// digitRuns calls fn with the key (textDigitsKey) of each maximal run of
// digit groups of atoms that has one: the numbers a text may write
// without their prefix and zeros.
func digitRuns(atoms []refAtom, fn func(k string)) {
	for i := 0; i < len(atoms); i++ {
		if !atoms[i].digit {
			continue
		}
		j := i
		for j+1 < len(atoms) && atoms[j+1].digit && (atoms[j+1].light || atoms[j+1].glued) {
			j++
		}
		if k := textDigitsKey(atoms, i, j); k != "" {
			fn(k)
		}
		i = j
	}
}

// gatherRemitted reads the payer's split (tx.Remitted) and writes
// ev.remit: per document, the items its number as written (compact, else
// without leading zeros), else its reference, names.
func (e *engine) gatherRemitted(ev *evidence, tx *domain.Transaction) {
	if len(tx.Remitted) > 0 {
		ev.remit = make([][]int32, len(tx.Remitted))
		for k := range tx.Remitted {
			ev.remit[k] = e.ix.remittedItems(&tx.Remitted[k])
		}
	}
}

// gatherCut reads the last line of tx's remittance when it is full (cut
// by the bank) and writes ev.r().cut and ev.r().cutText: the items whose document
// number starts with the text that ends it (a prefix search).
func (e *engine) gatherCut(ev *evidence, tx *domain.Transaction, sc *scratch) {
	if n := len(tx.Unstructured); n > 0 && fullLine(tx.Unstructured[n-1]) {
		last := sc.fold(tx.Unstructured[n-1])
		if len(last) > 0 && last[len(last)-1] != ' ' {
			atoms := atomiseAppend(sc.atoms[:0], last)
			sc.atoms = atoms
			var b []byte
			for i := len(atoms) - 1; i >= 0 && i >= len(atoms)-maxGramAtoms; i-- {
				if i < len(atoms)-1 && !atoms[i+1].glued && !atoms[i+1].light {
					break
				}
				b = append([]byte(atoms[i].s), b...)
				if len(b) >= minCutLen {
					if items := e.ix.docPrefix(string(b), maxCutItems); len(items) > 0 {
						ev.w().cut, ev.w().cutText = items, string(b)
					}
				}
			}
		}
	}
	clear(sc.atoms) // the atoms point into this transaction's texts
	sc.atoms = sc.atoms[:0]
}

// gatherIBAN reads the payer's IBAN and writes ev.iban, ev.ibanCust (the
// customers the open items or Memory know it for, sorted) and
// ev.ibanLearned (only Memory knows it).
func (e *engine) gatherIBAN(ev *evidence, tx *domain.Transaction) {
	ev.iban = NormaliseIBAN(tx.Counterparty.IBAN)
	if ev.iban == "" {
		return
	}
	byIBAN, mem := e.ix.byIBAN[ev.iban], e.ix.memIBAN[ev.iban]
	if len(byIBAN) == 0 {
		ev.ibanLearned = len(mem) > 0
	}
	if len(byIBAN)+len(mem) > 0 {
		cs := make([]string, len(byIBAN), len(byIBAN)+len(mem))
		copy(cs, byIBAN)
		for _, c := range mem {
			cs = appendUnique(cs, c)
		}
		slices.Sort(cs)
		ev.ibanCust = cs
	}
}

// gatherNames reads the payer's name and ultimate debtor name and writes
// ev.names: the customers whose names are like them, once each with its
// better score, best first.
func (e *engine) gatherNames(ev *evidence, tx *domain.Transaction, sc *scratch) {
	for _, name := range []string{tx.Counterparty.Name, tx.Counterparty.UltimateName} {
		if name == "" {
			continue
		}
		ms := e.ix.payerByNameWith(name, sc)
		if len(ev.names) == 0 {
			// one list names each customer once
			ev.names = append(ev.names, ms...)
			continue
		}
		ev.names = mergeNames(ev.names, ms, sc.names)
	}
	clear(sc.out)
	sc.out = sc.out[:0]
	slices.SortFunc(ev.names, cmpNameMatch)
}

// mergeNames appends to names the matches of ms whose customer it does not
// hold, and keeps the better score of a customer met again; pos is an
// empty map it uses and leaves empty.
func mergeNames(names, ms []nameMatch, pos map[string]int) []nameMatch {
	for i, m := range names {
		pos[m.customer] = i
	}
	for _, m := range ms {
		if i, ok := pos[m.customer]; ok {
			if m.score > names[i].score {
				names[i] = m
			}
			continue
		}
		pos[m.customer] = len(names)
		names = append(names, m)
	}
	for _, m := range names {
		delete(pos, m.customer)
	}
	return names
}

// identifyPayer reads ev.ibanCust and ev.names and writes who the payer
// is: ev.payer (sorted), ev.payerStrong, ev.payerHow, and ev.r().longer, the
// customers whose longer names the payer's may be cut from. The IBAN
// wins; else every customer whose name is similar enough (strongName) and
// within a whisker of the best.
func (ev *evidence) identifyPayer() {
	switch {
	case len(ev.ibanCust) > 0:
		ev.payer = ev.ibanCust
		ev.payerStrong = true
		if ev.ibanLearned {
			ev.payerHow = "payer IBAN " + ev.iban + " learned for " + strings.Join(ev.ibanCust, ", ")
		} else {
			ev.payerHow = "payer IBAN " + ev.iban + " belongs to " + strings.Join(ev.ibanCust, ", ")
		}
	case len(ev.names) > 0 && ev.names[0].score >= strongName:
		for _, m := range ev.names {
			switch {
			case m.score >= strongName && m.score >= ev.names[0].score-0.05:
				ev.payer = append(ev.payer, m.customer)
			case m.extends:
				// banks cut names: "LIMIRO CHAUFFAGE" is "Limiro Chauffage
				// EURL" or "Limiro Chauffage Groupe SARL" cut at 16
				ev.w().longer = append(ev.r().longer, m)
			}
		}
		slices.Sort(ev.payer)
		ev.payerStrong = true
		how := "name similar to"
		if ev.names[0].score == 1 {
			how = "name equal to"
			if ev.names[0].learned {
				how = "name learned for"
			}
		}
		ev.payerHow = "payer " + how + " " + strings.Join(ev.payer, ", ")
	}
}

// tierOf is the evidence's tier: a valid reference, else a document
// number, reference or typo, else a payer, else none.
func tierOf(ev *evidence) int {
	switch {
	case hasValid(ev.refs):
		return tierReference
	case len(ev.docs) > 0 || len(ev.refs) > 0 || len(ev.r().typos) > 0:
		return tierDocument
	case len(ev.payer) > 0:
		return tierPayer
	}
	return tierNone
}

// minCutLen and maxCutItems bound the prefix search of cut numbers: at
// least 6 characters, at most 50 items starting so.
const (
	minCutLen   = 6
	maxCutItems = 50
)

// strongName is the name similarity from which a payer is identified.
const strongName = 0.85

func hasValid(refs []refHit) bool {
	for _, r := range refs {
		if r.valid {
			return true
		}
	}
	return false
}

// designates reports whether the transaction's own text designates item n: a
// valid reference, a document number as written, or a one-typo number.
func (ev *evidence) designates(n int32) bool {
	for _, r := range ev.refs {
		if r.valid && r.item == n {
			return true
		}
	}
	for _, d := range ev.docs {
		if !d.loose && d.item == n {
			return true
		}
	}
	for _, t := range ev.r().typos {
		if t == n {
			return true
		}
	}
	return slices.Contains(ev.r().payerTypos, n)
}

// designatesExactly reports whether the transaction's own text designates
// item n by a valid reference or its document number as written (not only
// one character away from it).
func (ev *evidence) designatesExactly(n int32) bool {
	for _, r := range ev.refs {
		if r.valid && r.item == n {
			return true
		}
	}
	for _, d := range ev.docs {
		if !d.loose && d.item == n {
			return true
		}
	}
	return false
}

// strongDoc reports whether a document number appears as written (not only
// once leading zeros are dropped).
func (ev *evidence) strongDoc() bool {
	for _, d := range ev.docs {
		if !d.loose {
			return true
		}
	}
	return false
}

// typoMatch reports whether one of the transaction's text n-grams is one
// edit away from the item's document number (compact or loose form).
func (e *engine) typoMatch(ev *evidence, n int32) (string, bool) {
	if e.ix.docC[n] == "" {
		return "", false
	}
	// decisions are made one at a time: the grams of the last transaction
	// asked about are kept
	if e.gramsOf != ev {
		if e.gramScratch == nil {
			e.gramScratch = newScratch()
		}
		clear(e.grams)
		e.grams = appendTextGrams(e.grams[:0], txTexts(ev.tx, e.gramScratch), e.gramScratch)
		e.gramsOf = ev
	}
	return e.ix.typoMatchGrams(e.grams, n)
}

// typoMatchGrams reports whether one of grams is one edit away from item
// n's document number (compact or loose form), and which.
func (ix *index) typoMatchGrams(grams []string, n int32) (string, bool) {
	return ix.typoMatchFiltered(grams, n, nil)
}

// typoMatchFiltered is typoMatchGrams where the grams found reports (when
// not nil) are not compared with the loose form of item n's number.
func (ix *index) typoMatchFiltered(grams []string, n int32, found func(string) bool) (string, bool) {
	keys := [2]string{ix.docC[n], ix.docL[n]}
	if keys[0] == "" {
		return "", false
	}
	for _, g := range grams {
		for i, k := range keys {
			// a loose key is short when its serial had leading zeros
			// (FA-2025-000006 → FA20256): its prefix (FA2025, in every
			// number of the year) does not name it
			if len(k) >= 5 && oneEdit(g, k) && (i == 0 || k == keys[0] || !strings.HasPrefix(k, g)) &&
				(i == 0 || found == nil || !found(g)) {
				return g, true
			}
		}
	}
	return "", false
}
