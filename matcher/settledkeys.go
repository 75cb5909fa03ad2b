package matcher

import (
	"slices"
	"strings"

	"github.com/lettrage/lettrage/domain"
)

// The settled items of Memory.Settled are looked up by two things only
// (index.go's buildDocs, evidence.go's addRef, docScanner and
// remittedItems): their payment reference (byRef, under refKey) and their
// document number as written and without the zeros of its digit groups
// (byDoc, under the compact and loose forms). They are in no other lookup:
// not by amount, customer, name or IBAN, not in the one-edit typo index
// nor the prefix search of cut lines, which hold the open items alone. So
// a settled item none of whose keys a pass's transactions look up changes
// none of its decisions, and a store may give the matcher only the
// settled items whose SettledKeys meet the transactions' NamedKeys
// (issue 18: the settled items of 400 days were read whole by every pass
// with work).

// Key prefixes: a reference key and a document key are looked up in
// different maps, and a text gives both kinds.
const (
	settledRefKey = "r:"
	settledDocKey = "d:"
)

// SettledKeys calls fn with the keys the matcher files a settled item
// under (Memory.Settled): "r:" and its payment reference's key, "d:" and
// its document number's compact and loose forms; an item with neither has
// none and is never looked up. A key may be given twice.
func SettledKeys(it *domain.OpenItem, fn func(key string)) {
	if k := refKey(it.PaymentReference); k != "" {
		fn(settledRefKey + k)
	}
	if it.DocumentNumber == "" {
		return
	}
	f := Fold(it.DocumentNumber)
	if c := strings.ReplaceAll(f, " ", ""); c != "" {
		fn(settledDocKey + c)
	}
	if l := looseAtoms(atomise(f)); l != "" {
		fn(settledDocKey + l)
	}
}

// NamedKeys returns, sorted and each once, every key (SettledKeys' form)
// Match looks a settled item up by when it decides txs: the structured
// references and the reference candidates of their texts, every n-gram of
// their texts as written and without zeros (and of each remittance line
// alone), the numbers written without prefix and zeros, the references and
// numbers of the payer's split. It is a superset: the bounds and filters
// that spare the matcher most look-ups (the lengths of the numbers held,
// a hit in the joined text) depend on the items held and are left out.
// Memory.Settled cut to the items with a key in NamedKeys(txs) gives the
// same Output as Memory.Settled whole (TestNamedKeysDecideAsAllSettled).
func NamedKeys(txs []domain.Transaction) []string {
	return NamedKeysOf(len(txs), func(i int) *domain.Transaction { return &txs[i] })
}

// NamedKeysOf is NamedKeys of the n transactions tx gives, for a caller
// whose transactions are not in one slice.
func NamedKeysOf(n int, tx func(i int) *domain.Transaction) []string {
	seen := map[string]struct{}{}
	sc := newScratch()
	add := func(prefix string, k []byte) { seen[prefix+string(k)] = struct{}{} }
	for i := range n {
		namedKeysOf(tx(i), sc, add)
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// namedKeysOf gives add the keys one transaction looks settled items up
// by, mirroring gatherRefs, gatherDocs and gatherRemitted without an index.
func namedKeysOf(tx *domain.Transaction, sc *scratch, add func(prefix string, k []byte)) {
	ref := func(k []byte) {
		if isDigitBytes(k) {
			for len(k) > 0 && k[0] == '0' {
				k = k[1:]
			}
		}
		add(settledRefKey, k)
	}
	// gatherRefs
	for _, r := range tx.Structured {
		if c := domain.CompactReference(r.Value); c != "" {
			ref([]byte(c))
		}
	}
	texts := txTexts(tx, sc)
	for _, t := range texts {
		sc.atoms = referenceCandidatesWith(t, sc.atoms, &sc.cb, &sc.ub, func(c []byte) {
			if len(c) >= 4 {
				ref(c)
			}
		})
	}
	// gatherDocs: the joined texts, then each remittance line alone
	// when a full line may have hidden a number (read by the matcher only
	// when the joined text named nothing: here always, a superset)
	for _, t := range texts {
		namedDocKeys(t, true, sc, add)
	}
	if len(tx.Unstructured) > 1 && slices.ContainsFunc(tx.Unstructured[:len(tx.Unstructured)-1], fullLine) {
		for _, l := range tx.Unstructured {
			namedDocKeys(l, false, sc, add)
		}
	}
	// gatherRemitted
	for k := range tx.Remitted {
		d := &tx.Remitted[k]
		if d.Number != "" {
			f := Fold(d.Number)
			add(settledDocKey, []byte(strings.ReplaceAll(f, " ", "")))
			add(settledDocKey, []byte(looseAtoms(atomise(f))))
		}
		if d.Reference != "" {
			add(settledRefKey, []byte(refKey(d.Reference)))
		}
	}
	clear(sc.atoms)
	sc.atoms = sc.atoms[:0]
}

// namedDocKeys gives add the document keys docScanner.scan looks text t
// up by: each n-gram as written and without zeros (scanFrom, without the
// bounds of the numbers held), and, with digits, the numbers written
// without prefix and zeros (scanDigits).
func namedDocKeys(t string, digits bool, sc *scratch, add func(prefix string, k []byte)) {
	atoms := atomiseAppend(sc.atoms[:0], sc.fold(t))
	sc.atoms = atoms
	cb, lb := sc.cb[:0], sc.lb[:0]
	for i := range atoms {
		cb, lb = cb[:0], lb[:0]
		for j := i; j < len(atoms) && j < i+maxGramAtoms; j++ {
			a := atoms[j]
			if j > i && !a.glued && !a.light {
				break
			}
			cb = append(cb, a.s...)
			if a.digit {
				lb = appendLooseDigits(lb, a.s)
			} else {
				lb = append(lb, a.s...)
			}
			if len(cb) > maxGramLen {
				break
			}
			if len(cb) < minGramLen {
				continue
			}
			add(settledDocKey, cb)
			if string(lb) != string(cb) {
				add(settledDocKey, lb)
			}
		}
	}
	sc.cb, sc.lb = cb, lb
	if !digits {
		return
	}
	digitRuns(atoms, func(k string) { add(settledDocKey, []byte(k)) })
}
