package pipeline

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
)

// Transaction identity across deliveries — the one rule Job.Run and
// MatchFiles share (docs/FORMATS.md "Transaction identity"):
//
//   - A transaction's class is its statement account, currency, amount,
//     direction, booking date and status group (booked, or the status of a
//     pending/informational entry). Two transactions of different classes
//     are never the same.
//   - Nor are two transactions of different shapes: a transaction of its own
//     entry, a batch entry booked without details, and a detail of a batch
//     (the day's statement books the batch as one entry and the payer's
//     own credit as another, even when the detail says too little to
//     contradict the credit). Two batch entries, or two details, are the
//     same only if their entries share a link reference (Ntry/AcctSvcrRef,
//     NtryRef, Btch/MsgId or PmtInfId) when both have one: a detail of one
//     batch is never a re-delivery of a detail of another.
//   - Within a class, a transaction read from a file is the same as one
//     already recorded (a re-delivery) when their bank references do not
//     differ (both present and different; an entry's number in a statement
//     numbered from 1 is no reference, see domain.Origin.BankRef) and no
//     other field contradicts: end-to-end id, payer IBAN or account, payer
//     name, remittance — a field one side lacks is no contradiction (banks
//     enrich a camt.053 over the camt.052 of the same day).
//   - Same reference and class but another field contradicts: the rule
//     cannot tell; the transaction is recorded as a new one and reported as
//     a possible duplicate (never lettered automatically). A statement that
//     declares itself a duplicate (CpyDplctInd DUPL, CODU) is taken at its
//     word: such a match is a re-delivery.
//   - Occurrences: a delivery is one document of a file. One recorded
//     transaction stands for at most one transaction of each delivery, and
//     never for one of its own delivery. Two identical-looking payments in
//     one document are two; one in each of two documents is one (the second
//     re-delivers it); a later delivery with two where one was recorded
//     brings one new. As many of a delivery's transactions as can be are
//     re-deliveries (a maximum matching), the closest claims first: the
//     same bank reference, then the most fields given alike, then the
//     closest detail.
//   - Pending and informational entries are recorded in their own classes
//     and keys: they never shadow the booked transaction.
//   - A new transaction keeps its natural tx_ref unless another identity
//     holds it; then it gets the first free "#n" suffix (n ≥ 2).

// knownTx is a transaction the identity rule can match a delivery with.
type knownTx struct {
	key   string
	tx    *domain.Transaction
	file  string // content hash of the file it was first read from
	state string // state in the store; "" for a transaction of this pass
	// delivery is the document it was read from in this pass (file hash and
	// document index); claimedBy the delivery that last matched it.
	delivery, claimedBy string
	// visit marks it seen by the current search of the matching.
	visit int
}

// knownOf is a transaction an earlier pass recorded, as the rule matches
// deliveries with it.
func knownOf(r state.Recorded) knownTx {
	return knownTx{key: r.Key, tx: r.Tx, file: r.File, state: r.State}
}

// deliveryOf names the delivery a transaction of file hash belongs to:
// one document of the file.
func deliveryOf(hash string, t *domain.Transaction) string {
	if t.Origin == nil || t.Origin.Document <= 1 {
		return hash
	}
	return fmt.Sprintf("%s#%d", hash, t.Origin.Document)
}

// linkedTx is a recorded batch entry or batch detail sharing a link key.
type linkedTx struct {
	link  string
	role  string // decide.LinkBatch or decide.LinkDetail
	known knownTx
	dec   domain.Decision
}

// cover is a transaction set aside because another accounts for its cash.
type cover struct {
	tx     domain.Transaction
	file   string
	prior  bool   // recorded by an earlier pass (its row is updated)
	reason string // decide.ReasonCoveredByDetails or decide.ReasonDetailsOfLettered
	why    string
}

// dupNote says what a possible duplicate may duplicate.
type dupNote struct {
	of     string   // tx_ref of the recorded transaction
	fields []string // the fields that contradict
}

// intake applies the identity rule to the files of one pass, in order.
type intake struct {
	prior   state.Prior
	classes map[string][]*knownTx
	fetched map[string]bool
	keys    map[string]bool
	links   map[string][]*passLink

	// Results.
	fresh      []*domain.Transaction // new identities, in reading order
	freshFile  []string
	dropped    map[string]bool // keys of fresh transactions set aside later
	dupOf      map[string]dupNote
	awaiting   map[string]bool
	covers     []cover
	enrich     []domain.Transaction // recorded transactions re-delivered with more to say
	duplicates int
	dupAmount  map[string]domain.Amount
	// visit numbers the searches of the re-delivery matching.
	visit int
	// deliveries are the re-deliveries (kept when recordDeliveries).
	deliveries       []state.Delivery
	recordDeliveries bool
	// explain, when set, makes addFile say what it decided for each
	// transaction of the file (verdicts, by index) — lettrage inspect.
	explain  bool
	verdicts []Verdict
	fileTx   map[*domain.Transaction]int
}

// Verdict is what the identity rule decided for one transaction read.
type Verdict struct {
	TxRef string `json:"tx_ref"` // as recorded (suffixed when its reference was taken)
	// Verdict is "new", or a reason: duplicate_delivery,
	// possible_duplicate, covered_by_details, details_of_lettered,
	// awaiting_details.
	Verdict string `json:"verdict"`
	Of      string `json:"of,omitempty"` // the tx_ref of the transaction it re-delivers or may duplicate
	Why     string `json:"why,omitempty"`
}

func (in *intake) say(t *domain.Transaction, v Verdict) {
	if !in.explain {
		return
	}
	if i, ok := in.fileTx[t]; ok {
		v.TxRef = t.Ref
		in.verdicts[i] = v
	}
}

// passLink is a batch entry or a group of details read in this pass.
type passLink struct {
	role string
	txs  []*domain.Transaction
	file string
}

func newIntake(prior state.Prior) *intake {
	return &intake{prior: prior, classes: map[string][]*knownTx{}, fetched: map[string]bool{}, keys: map[string]bool{},
		links: map[string][]*passLink{}, dropped: map[string]bool{}, dupOf: map[string]dupNote{},
		awaiting: map[string]bool{}, dupAmount: map[string]domain.Amount{}}
}

var hashRef = regexp.MustCompile(`^[0-9a-f]{16}$`)

// bankRef is the bank reference a transaction's identity rests on: its
// Origin's, or for a transaction recorded before Origin existed, its
// tx_ref without suffix unless that is a placeholder or a hash.
func bankRef(t *domain.Transaction) string {
	if t.Origin != nil {
		return t.Origin.BankRef
	}
	r, _, _ := strings.Cut(t.Ref, "#")
	if domain.IsPlaceholderRef(r) || hashRef.MatchString(r) {
		return ""
	}
	return r
}

// fold is a text compared for contradictions: upper case, letters and
// digits only.
func fold(s string) string { return string(appendFold(nil, s)) }

// appendFold appends fold(s) to dst: ASCII text byte by byte, other text
// rune by rune as strings.ToUpper and the letter and digit classes say.
func appendFold(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range strings.ToUpper(s) {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					dst = utf8.AppendRune(dst, r)
				}
			}
			return dst
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			dst = append(dst, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			dst = append(dst, c)
		}
	}
	return dst
}

// foldedRemittance is the remittance of t (its lines, structured
// references and documents) folded, without joining the parts first (the
// spaces between them would fold away).
func foldedRemittance(t *domain.Transaction) string {
	return string(appendFoldedRemittance(nil, t))
}

// appendFoldedRemittance appends foldedRemittance(t) to dst.
func appendFoldedRemittance(dst []byte, t *domain.Transaction) []byte {
	for _, l := range t.Unstructured {
		dst = appendFold(dst, l)
	}
	for _, r := range t.Structured {
		dst = appendFold(dst, r.Value)
	}
	for _, d := range t.Documents {
		dst = appendFold(dst, d)
	}
	return dst
}

// relation tells of two folded texts whether both are present and, if
// so, whether they contradict: neither contains the other (a bank may cut
// or extend a name or a line). On bytes, so that the texts can be folded
// into the caller's stack buffers.
func relation(a, b []byte) (both, differ bool) {
	if len(a) == 0 || len(b) == 0 {
		return false, false
	}
	return true, !bytes.Contains(a, b) && !bytes.Contains(b, a)
}

// namesRelation is relation of the two payers' names, folded.
func namesRelation(a, b *domain.Transaction) (both, differ bool) {
	var ba, bb [128]byte
	return relation(appendFold(ba[:0], a.Counterparty.Name), appendFold(bb[:0], b.Counterparty.Name))
}

// remittancesRelation is relation of the two remittances, folded: the
// identity rule compares each delivered transaction with its candidates,
// and folding into strings allocated two or three objects a side.
func remittancesRelation(a, b *domain.Transaction) (both, differ bool) {
	var ba, bb [512]byte
	return relation(appendFoldedRemittance(ba[:0], a), appendFoldedRemittance(bb[:0], b))
}

// contradictions lists the fields on which two transactions of one class
// disagree (both sides present).
func contradictions(a, b *domain.Transaction) []string {
	var out []string
	if e1, e2 := a.EndToEndID, b.EndToEndID; !domain.IsPlaceholderRef(e1) && !domain.IsPlaceholderRef(e2) && !strings.EqualFold(strings.TrimSpace(e1), strings.TrimSpace(e2)) {
		out = append(out, "end-to-end id")
	}
	if i1, i2 := a.Counterparty.IBAN, b.Counterparty.IBAN; i1 != "" && i2 != "" && i1 != i2 {
		out = append(out, "payer IBAN")
	}
	if o1, o2 := a.Counterparty.Account, b.Counterparty.Account; o1 != "" && o2 != "" && o1 != o2 {
		out = append(out, "payer account")
	}
	if both, differ := namesRelation(a, b); both && differ {
		out = append(out, "payer name")
	}
	if both, differ := remittancesRelation(a, b); both && differ {
		out = append(out, "remittance")
	}
	return out
}

// agreements counts the fields two transactions of one class both give
// and that do not contradict: end-to-end id, payer IBAN, payer account,
// payer name, remittance.
func agreements(a, b *domain.Transaction) int {
	n := 0
	if e1, e2 := a.EndToEndID, b.EndToEndID; !domain.IsPlaceholderRef(e1) && !domain.IsPlaceholderRef(e2) &&
		strings.EqualFold(strings.TrimSpace(e1), strings.TrimSpace(e2)) {
		n++
	}
	if i1, i2 := a.Counterparty.IBAN, b.Counterparty.IBAN; i1 != "" && i1 == i2 {
		n++
	}
	if o1, o2 := a.Counterparty.Account, b.Counterparty.Account; o1 != "" && o1 == o2 {
		n++
	}
	if both, differ := namesRelation(a, b); both && !differ {
		n++
	}
	if both, differ := remittancesRelation(a, b); both && !differ {
		n++
	}
	return n
}

// sameClass checks the class fields themselves (a hash may collide).
func sameClass(a, b *domain.Transaction) bool {
	return a.Account == b.Account && a.Currency == b.Currency && a.Amount.Equal(b.Amount) && a.Credit == b.Credit &&
		a.BookingDate.Equal(b.BookingDate) && decide.Booked(a) == decide.Booked(b) && (decide.Booked(a) || a.Status == b.Status)
}

// shape tells a transaction of its own entry ("") from a batch entry
// booked without details and from a detail of a batch.
func shape(t *domain.Transaction) string {
	switch {
	case t.IsBatchEntry():
		return decide.LinkBatch
	case t.IsBatchDetail():
		return decide.LinkDetail
	}
	return ""
}

// sameShape reports whether two transactions of one class may be the
// same by their shape: both of their own entries, or both batch entries or
// both details of entries that share a link reference (when both have
// one).
func sameShape(a, b *domain.Transaction) bool {
	sa := shape(a)
	if sa != shape(b) {
		return false
	}
	if sa == "" {
		return true
	}
	la, lb := decide.LinkKeys(a), decide.LinkKeys(b)
	if len(la) == 0 || len(lb) == 0 {
		return true
	}
	for _, x := range la {
		for _, y := range lb {
			if x == y {
				return true
			}
		}
	}
	return false
}

// infoScore counts what a delivery says about a transaction beyond its
// class: a re-delivery that says more enriches an open exception.
func infoScore(t *domain.Transaction) int {
	n := 0
	for _, s := range []string{t.Counterparty.Name, t.Counterparty.IBAN, t.Counterparty.Account, t.Counterparty.BIC, t.EndToEndID} {
		if s != "" {
			n++
		}
	}
	return n + len(t.Structured) + len(t.Documents) + len(t.Unstructured) + len(t.Additional)
}

func isDuplicateCopy(t *domain.Transaction) bool {
	return t.Origin != nil && (t.Origin.CopyDuplicate == "DUPL" || t.Origin.CopyDuplicate == "CODU")
}

// fetch loads what the prior state holds for the classes not loaded yet.
func (in *intake) fetch(ctx context.Context, txs []domain.Transaction) error {
	if in.prior == nil {
		return nil
	}
	var need []string
	for i := range txs {
		c := decide.IdentClass(&txs[i])
		if !in.fetched[c] {
			in.fetched[c] = true
			need = append(need, c)
		}
	}
	if len(need) == 0 {
		return nil
	}
	recs, err := in.prior.ByClass(ctx, need)
	if err != nil {
		return err
	}
	for _, r := range recs {
		k := knownOf(r)
		c := decide.IdentClass(k.tx)
		in.classes[c] = append(in.classes[c], &k)
	}
	return nil
}

// addFile applies the rule to the transactions of one file (hash), in
// order, one delivery (document of the file) after the other. The
// transactions are kept (by pointer) until the pass ends.
func (in *intake) addFile(ctx context.Context, hash string, txs []domain.Transaction) error {
	if err := in.fetch(ctx, txs); err != nil {
		return err
	}
	if in.explain {
		in.verdicts = make([]Verdict, len(txs))
		in.fileTx = make(map[*domain.Transaction]int, len(txs))
		for i := range txs {
			in.fileTx[&txs[i]] = i
		}
	}
	var news []*domain.Transaction
	for lo := 0; lo < len(txs); {
		dlv := deliveryOf(hash, &txs[lo])
		hi := lo + 1
		for hi < len(txs) && deliveryOf(hash, &txs[hi]) == dlv {
			hi++
		}
		news = append(news, in.addDelivery(hash, dlv, lo, txs[lo:hi])...)
		lo = hi
	}
	return in.finishFile(ctx, hash, news)
}

// addDelivery matches the transactions of one delivery (dlv, a document
// of file hash; seq0 the index of its first transaction in the file)
// with those known and returns the new ones.
func (in *intake) addDelivery(hash, dlv string, seq0 int, txs []domain.Transaction) []*domain.Transaction {
	cands := make([][]idCandidate, len(txs))
	possibles := make([][]possibleDup, len(txs))
	for i := range txs {
		cands[i], possibles[i] = in.candidatesOf(&txs[i], dlv)
	}
	owner := in.matchRedeliveries(cands)
	matched := make([]*knownTx, len(txs))
	for k, i := range owner {
		matched[i] = k
	}
	var news []*domain.Transaction
	var newClass []string
	for i := range txs {
		t := &txs[i]
		if best := matched[i]; best != nil {
			in.redelivered(hash, dlv, seq0+i, t, best)
			continue
		}
		in.addNew(t, possibles[i], owner)
		news = append(news, t)
		newClass = append(newClass, decide.IdentClass(t))
	}
	for n, t := range news {
		in.classes[newClass[n]] = append(in.classes[newClass[n]], &knownTx{key: t.Key, tx: t, file: hash, delivery: dlv})
	}
	return news
}

// idCandidate is a recorded transaction a delivered one may be, with the
// score of the likeness.
type idCandidate struct {
	k     *knownTx
	score int
}

// possibleDup is a recorded transaction a delivered one has the bank
// reference of but contradicts (fields): a possible duplicate.
type possibleDup struct {
	k      *knownTx
	fields []string
}

// candidatesOf reads the recorded transactions of t's class and returns
// those t may be, best first, and those a contradiction makes it a
// possible duplicate of. The candidates are those known before delivery
// dlv (its own transactions are never candidates) and not claimed by it,
// of the same class and shape, without another bank reference.
func (in *intake) candidatesOf(t *domain.Transaction, dlv string) ([]idCandidate, []possibleDup) {
	var cands []idCandidate
	var possibles []possibleDup
	for _, k := range in.classes[decide.IdentClass(t)] {
		if (k.state == "" && k.delivery == dlv) || k.claimedBy == dlv || !sameClass(t, k.tx) || !sameShape(t, k.tx) {
			continue
		}
		tr, kr := bankRef(t), bankRef(k.tx)
		if tr != "" && kr != "" && tr != kr {
			continue
		}
		fields := contradictions(t, k.tx)
		if len(fields) > 0 {
			if tr != "" && tr == kr {
				if isDuplicateCopy(t) {
					fields = nil
				} else {
					possibles = append(possibles, possibleDup{k, fields})
				}
			}
			if len(fields) > 0 {
				continue
			}
		}
		cands = append(cands, idCandidate{k, likeness(t, k.tx, tr != "" && tr == kr)})
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	return cands, possibles
}

// likeness scores how like a recorded transaction k a delivered one t is:
// the bank reference first (sameRef), then the fields both give alike,
// then closeness of detail.
func likeness(t, k *domain.Transaction, sameRef bool) int {
	score := 0
	if sameRef {
		score = 1000
	}
	return score + 20*agreements(t, k) + 10 - min(10, abs(infoScore(t)-infoScore(k)))
}

// matchRedeliveries decides which of a delivery's transactions (by their
// candidates, cands) are re-deliveries, of which recorded one: as many as
// can be, each of a different recorded one (a maximum matching; each
// takes its best candidate unless another of the delivery has no other).
// Taking them first come, first served could leave one without the only
// recorded transaction it may be, and record it twice. The closest claims
// go first (the bank reference, then the most fields given alike): a bare
// entry that may be any payment of its class, or one that shares no field
// with the record, does not take it from the delivery that names the same
// payer. It returns the index of the transaction each recorded one is
// taken by.
func (in *intake) matchRedeliveries(cands [][]idCandidate) map[*knownTx]int {
	owner := map[*knownTx]int{}
	var assign func(i int) bool
	assign = func(i int) bool {
		for _, c := range cands[i] {
			if c.k.visit == in.visit {
				continue
			}
			c.k.visit = in.visit
			if j, taken := owner[c.k]; !taken || assign(j) {
				owner[c.k] = i
				return true
			}
		}
		return false
	}
	order := make([]int, 0, len(cands))
	for i := range cands {
		if len(cands[i]) > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]][0].score > cands[order[b]][0].score })
	for _, i := range order {
		in.visit++ // a new search: every candidate unvisited
		assign(i)
	}
	return owner
}

// redelivered records t (number seq of file hash, in delivery dlv) as a
// re-delivery of best: best is claimed by dlv, the duplicate counted and
// said, and, when t gives more detail, best takes it (in the pass when
// not matched yet, in the store when still open or waiting).
func (in *intake) redelivered(hash, dlv string, seq int, t *domain.Transaction, best *knownTx) {
	best.claimedBy = dlv
	if in.recordDeliveries {
		in.deliveries = append(in.deliveries, state.Delivery{FileHash: hash, Seq: seq, TxKey: best.key, Verdict: decide.ReasonDuplicateDelivery, Tx: *t})
	}
	in.duplicates++
	in.dupAmount[t.Currency] = in.dupAmount[t.Currency].Add(t.Amount)
	in.say(t, Verdict{Verdict: decide.ReasonDuplicateDelivery, Of: best.tx.Ref, Why: "the same transaction as one read before"})
	if infoScore(t) > infoScore(best.tx) {
		enriched := *t
		enriched.Key, enriched.Ref = best.key, best.tx.Ref
		if best.state == "" {
			*best.tx = enriched // not matched yet: the pass uses the richer delivery
		} else if best.state == decide.TxOpen || best.state == decide.TxWaiting {
			in.enrich = append(in.enrich, enriched)
			*best.tx = enriched
		}
	}
}

// addNew readies t as a new transaction: a pending or informational entry
// gets a key of its own, and the first of its possible duplicates not
// re-delivered in this delivery (owner) is noted.
func (in *intake) addNew(t *domain.Transaction, possibles []possibleDup, owner map[*knownTx]int) {
	if !decide.Booked(t) {
		// Pending and informational entries have keys of their own.
		t.Key += "|" + t.Status
	}
	for _, p := range possibles {
		if _, taken := owner[p.k]; !taken {
			in.dupOf[t.Key] = dupNote{of: p.k.tx.Ref, fields: p.fields}
			break
		}
	}
}

// finishFile gives the new transactions of a file their keys and links
// its batch entries and details.
func (in *intake) finishFile(ctx context.Context, hash string, news []*domain.Transaction) error {
	if err := in.assignKeys(ctx, news); err != nil {
		return err
	}
	for _, t := range news {
		v := Verdict{Verdict: "new"}
		if d, ok := in.dupOf[t.Key]; ok {
			v = Verdict{Verdict: decide.ReasonPossibleDuplicate, Of: d.of, Why: "contradicting " + strings.Join(d.fields, ", ")}
		}
		in.say(t, v)
	}
	// The keys of in.classes entries are read from tx.Key after assignKeys.
	for _, t := range news {
		for _, k := range in.classes[decide.IdentClass(t)] {
			if k.tx == t {
				k.key = t.Key
			}
		}
	}
	return in.link(ctx, hash, news)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// assignKeys gives each new transaction its natural key, or the first free
// "#n" suffix when another identity holds it.
func (in *intake) assignKeys(ctx context.Context, news []*domain.Transaction) error {
	taken := map[string]bool{}
	if in.prior != nil && len(news) > 0 {
		keys := make([]string, len(news))
		for i, t := range news {
			keys[i] = t.Key
		}
		var err error
		if taken, err = in.prior.Taken(ctx, keys); err != nil {
			return err
		}
	}
	for _, t := range news {
		if !in.keys[t.Key] && !taken[t.Key] {
			in.keys[t.Key] = true
			continue
		}
		oldKey := t.Key
		base, _, _ := strings.Cut(t.Ref, "#")
		prefix := strings.TrimSuffix(t.Key, t.Ref)
		if !decide.Booked(t) {
			prefix = strings.TrimSuffix(strings.TrimSuffix(t.Key, "|"+t.Status), t.Ref)
		}
		for n := 2; ; n++ {
			ref := fmt.Sprintf("%s#%d", base, n)
			key := prefix + ref
			if !decide.Booked(t) {
				key += "|" + t.Status
			}
			if in.keys[key] {
				continue
			}
			if in.prior != nil {
				got, err := in.prior.Taken(ctx, []string{key})
				if err != nil {
					return err
				}
				if got[key] {
					continue
				}
			}
			t.Ref, t.Key = ref, key
			in.keys[key] = true
			break
		}
		if d, ok := in.dupOf[oldKey]; ok {
			delete(in.dupOf, oldKey)
			in.dupOf[t.Key] = d
		}
	}
	in.fresh = append(in.fresh, news...)
	return nil
}

// link ties the batch entries and batch details of the new transactions of
// one file to those read before (in this pass or recorded).
func (in *intake) link(ctx context.Context, hash string, news []*domain.Transaction) error {
	var all []string
	type end struct {
		t    *domain.Transaction
		keys []string
		role string
	}
	var ends []end
	for _, t := range news {
		in.freshFile = append(in.freshFile, hash)
		if !t.Credit || !decide.Booked(t) || t.Reversal {
			continue
		}
		role := ""
		switch {
		case t.IsBatchEntry():
			role = decide.LinkBatch
		case t.IsBatchDetail():
			role = decide.LinkDetail
		default:
			continue
		}
		ks := decide.LinkKeys(t)
		if len(ks) == 0 {
			if t.AwaitsDetails() {
				in.awaiting[t.Key] = true
			}
			continue
		}
		ends = append(ends, end{t, ks, role})
		all = append(all, ks...)
	}
	var recorded []linkedTx
	if in.prior != nil && len(all) > 0 {
		recs, err := in.prior.Linked(ctx, all)
		if err != nil {
			return err
		}
		for _, r := range recs {
			recorded = append(recorded, linkedTx{link: r.Link, role: r.Role, known: knownOf(r.Recorded), dec: r.Decision})
		}
	}
	byLink := map[string][]linkedTx{}
	for _, r := range recorded {
		byLink[r.link] = append(byLink[r.link], r)
	}
	for _, e := range ends {
		if e.role == decide.LinkBatch {
			in.linkBatch(hash, e.t, e.keys, byLink)
		} else {
			in.linkDetail(hash, e.t, e.keys, byLink)
		}
	}
	return nil
}

// linkBatch: a batch entry read now is covered when its details were read
// (in this pass or before); else it waits for them (when it has no
// details at all).
func (in *intake) linkBatch(hash string, t *domain.Transaction, keys []string, byLink map[string][]linkedTx) {
	for _, k := range keys {
		for _, pl := range in.links[k] {
			if pl.role == decide.LinkDetail {
				in.coverNew(t, hash, decide.ReasonCoveredByDetails, fmt.Sprintf("batch entry of %s %s covered by its %d details read from another file (%s…)",
					t.Amount, t.Currency, len(pl.txs), pl.txs[0].Ref))
				return
			}
		}
		for _, r := range byLink[k] {
			if r.role == decide.LinkDetail {
				in.coverNew(t, hash, decide.ReasonCoveredByDetails, fmt.Sprintf("batch entry of %s %s covered by its details recorded earlier (%s…)",
					t.Amount, t.Currency, r.known.tx.Ref))
				return
			}
		}
	}
	for _, k := range keys {
		in.links[k] = append(in.links[k], &passLink{role: decide.LinkBatch, txs: []*domain.Transaction{t}, file: hash})
	}
	if t.AwaitsDetails() {
		in.awaiting[t.Key] = true
		in.say(t, Verdict{Verdict: decide.ReasonAwaitingDetails, Why: "a batch entry booked without details"})
	}
}

// linkDetail: details read now cover a batch entry read before, unless
// that entry was lettered as a whole: then the details are set aside.
func (in *intake) linkDetail(hash string, t *domain.Transaction, keys []string, byLink map[string][]linkedTx) {
	for _, k := range keys {
		for _, pl := range in.links[k] {
			if pl.role == decide.LinkDetail && pl.file == hash {
				pl.txs = append(pl.txs, t) // another detail of the same entry
				return
			}
		}
	}
	for _, k := range keys {
		for _, pl := range in.links[k] {
			if pl.role != decide.LinkBatch || in.dropped[pl.txs[0].Key] {
				continue
			}
			b := pl.txs[0]
			in.dropped[b.Key] = true
			delete(in.awaiting, b.Key)
			why := fmt.Sprintf("batch entry of %s %s covered by its details (%s…)", b.Amount, b.Currency, t.Ref)
			in.covers = append(in.covers, cover{tx: *b, file: pl.file, reason: decide.ReasonCoveredByDetails, why: why})
			in.say(b, Verdict{Verdict: decide.ReasonCoveredByDetails, Why: why})
		}
		for _, r := range byLink[k] {
			if r.role != decide.LinkBatch {
				continue
			}
			switch r.known.state {
			case decide.TxWaiting, decide.TxOpen:
				if in.dropped[r.known.key] {
					continue
				}
				in.dropped[r.known.key] = true
				in.covers = append(in.covers, cover{tx: *r.known.tx, file: r.known.file, prior: true, reason: decide.ReasonCoveredByDetails,
					why: fmt.Sprintf("batch entry of %s %s covered by its details read later (%s…)", r.known.tx.Amount, r.known.tx.Currency, t.Ref)})
			case decide.TxLettered, decide.TxHeld:
				in.coverNew(t, hash, decide.ReasonDetailsOfLettered, fmt.Sprintf("detail of batch entry %s, which was lettered as a whole", r.known.tx.Ref))
				return
			}
		}
	}
	pl := &passLink{role: decide.LinkDetail, txs: []*domain.Transaction{t}, file: hash}
	for _, k := range keys {
		in.links[k] = append(in.links[k], pl)
	}
}

// coverNew sets aside a transaction of this pass.
func (in *intake) coverNew(t *domain.Transaction, hash, reason, why string) {
	in.dropped[t.Key] = true
	in.covers = append(in.covers, cover{tx: *t, file: hash, reason: reason, why: why})
	in.say(t, Verdict{Verdict: reason, Why: why})
}

// IdentityTrail applies the identity rule to files read one after the
// other with nothing recorded before (as lettrage match does) and says
// what it decided for each transaction (lettrage inspect).
type IdentityTrail struct {
	in     *intake
	covers int
}

// NewIdentityTrail starts a trail.
func NewIdentityTrail() *IdentityTrail {
	in := newIntake(nil)
	in.explain = true
	return &IdentityTrail{in: in}
}

// File applies the rule to the transactions of one more file (name tells
// files apart): a verdict per transaction, and the verdicts that reading
// it changed for transactions of earlier files (a batch entry covered by
// the details read now). txs must stay unchanged while the trail is used.
func (tr *IdentityTrail) File(name string, txs []domain.Transaction) (verdicts, earlier []Verdict) {
	_ = tr.in.addFile(context.Background(), name, txs) // no prior state: cannot fail
	verdicts = tr.in.verdicts
	for _, c := range tr.in.covers[tr.covers:] {
		if c.file != name {
			earlier = append(earlier, Verdict{TxRef: c.tx.Ref, Verdict: c.reason, Why: c.why})
		}
	}
	tr.covers = len(tr.in.covers)
	return verdicts, earlier
}

// kept returns the new transactions to match, and the files they came from,
// leaving out those set aside; awaiting ones are kept when keepAwaiting.
func (in *intake) kept(keepAwaiting bool) ([]domain.Transaction, []string) {
	txs := make([]domain.Transaction, 0, len(in.fresh))
	files := make([]string, 0, len(in.fresh))
	for i, t := range in.fresh {
		if in.dropped[t.Key] || (!keepAwaiting && in.awaiting[t.Key]) {
			continue
		}
		txs = append(txs, *t)
		files = append(files, in.freshFile[i])
	}
	return txs, files
}

// possibleDuplicate turns the decision on a possible duplicate into an
// exception an accountant reviews.
func possibleDuplicate(d domain.Decision, n dupNote) domain.Decision {
	why := fmt.Sprintf("possible duplicate of %s: same bank reference, account, amount and date, but the %s differ; "+
		"check whether the bank delivered one payment twice before lettering it", n.of, strings.Join(n.fields, ", "))
	return demote(d, decide.ReasonPossibleDuplicate, why)
}

// batchWithoutDetails turns the decision on a batch entry whose details
// never came into an exception.
func batchWithoutDetails(d domain.Decision, tx domain.Transaction) domain.Decision {
	why := fmt.Sprintf("batch entry of %d transactions booked as one amount; its details (a camt.054 notification) were not received", tx.Origin.Batch)
	return demote(d, decide.ReasonBatchNoDetails, why)
}

// demote makes d an exception with the reason: an automatic decision is
// kept as a suggestion of what the matcher would do.
func demote(d domain.Decision, reason, why string) domain.Decision {
	if d.Outcome == domain.Auto {
		return suggestInstead(d, reason, why+"; the matcher would choose: ")
	}
	if d.Outcome != domain.Suggested && d.Outcome != domain.Unmatched {
		return d
	}
	d.Reason = reason
	if !strings.HasPrefix(d.Explanation, why) {
		d.Explanation = why + "; " + d.Explanation
	}
	return d
}

// identityVerdict applies what the identity rule knows of tx to the
// matcher's decision d: a possible duplicate, or a batch entry whose
// details did not come (dueBatch: a waiting entry whose wait is over), is
// an exception; prevReason keeps such an exception one on later passes.
func identityVerdict(d domain.Decision, tx domain.Transaction, ids *intake, dueBatch bool, prevReason string) domain.Decision {
	switch {
	case ids != nil && ids.dupOf[tx.Key].of != "":
		return possibleDuplicate(d, ids.dupOf[tx.Key])
	case prevReason == decide.ReasonPossibleDuplicate:
		return demote(d, decide.ReasonPossibleDuplicate, "possible duplicate of another delivery (see its first decision)")
	case dueBatch || prevReason == decide.ReasonBatchNoDetails || (ids != nil && ids.awaiting[tx.Key]):
		return batchWithoutDetails(d, tx)
	}
	return d
}

// SetAside is what a pass read and accounted for otherwise: cash that
// another transaction, or the same one delivered before, already carries.
type SetAside struct {
	Count int
	Cash  map[string]domain.Amount // by currency
}

// noteSetAside adds n transactions (cash by currency) set aside for reason.
func (r *Result) noteSetAside(reason string, n int, cash map[string]domain.Amount) {
	if n == 0 {
		return
	}
	if r.SetAside == nil {
		r.SetAside = map[string]*SetAside{}
	}
	sa := r.SetAside[reason]
	if sa == nil {
		sa = &SetAside{Cash: map[string]domain.Amount{}}
		r.SetAside[reason] = sa
	}
	sa.Count += n
	for c, a := range cash {
		sa.Cash[c] = sa.Cash[c].Add(a)
	}
}

// DefaultBatchWait is how long a batch entry booked without details waits
// for the notification that details it before it is reported.
const DefaultBatchWait = 48 * time.Hour

func (j *Job) batchWait() time.Duration {
	if j.BatchWait > 0 {
		return j.BatchWait
	}
	return DefaultBatchWait
}

// setAsideRecords are the records of what the identity rule set aside in
// this pass: batch entries covered by their details (or details of a batch
// lettered as a whole), and batch entries waiting for their details.
func (j *Job) setAsideRecords(ids *intake, res *Result) []decide.DecisionRecord {
	var out []decide.DecisionRecord
	for i := range ids.covers {
		c := &ids.covers[i]
		d := domain.Decision{TxKey: c.tx.Key, Outcome: domain.Ignored, Reason: c.reason, Explanation: c.why}
		out = append(out, decide.DecisionRecord{Key: "cov-" + decide.ShortHash(j.Name+"\x00"+c.tx.Key), Tx: &c.tx, FileHash: c.file,
			Decision: d, New: !c.prior, State: decide.TxCovered})
		res.noteSetAside(c.reason, 1, map[string]domain.Amount{c.tx.Currency: c.tx.Amount})
		j.Metrics.setAside(j.Name, c.reason, 1)
	}
	for i, t := range ids.fresh {
		if !ids.awaiting[t.Key] || ids.dropped[t.Key] || j.BatchWait < 0 { // < 0: reported, not waiting
			continue
		}
		d := domain.Decision{TxKey: t.Key, Outcome: domain.Ignored, Reason: decide.ReasonAwaitingDetails,
			Explanation: fmt.Sprintf("batch entry of %d transactions booked as one amount: waiting up to %s for the notification (camt.054) that details it",
				t.Origin.Batch, j.batchWait())}
		out = append(out, decide.DecisionRecord{Key: "wait-" + decide.ShortHash(j.Name+"\x00"+t.Key), Tx: t, FileHash: ids.freshFile[i],
			Decision: d, New: true, State: decide.TxWaiting})
		res.noteSetAside(decide.ReasonAwaitingDetails, 1, map[string]domain.Amount{t.Currency: t.Amount})
		j.Metrics.setAside(j.Name, decide.ReasonAwaitingDetails, 1)
	}
	j.Metrics.setAside(j.Name, decide.ReasonDuplicateDelivery, ids.duplicates)
	return out
}
