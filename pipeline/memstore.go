package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
)

// memoryStore is the state store of one stateless pass (`lettrage match`):
// Go slices and maps, empty at the start and dropped at the end. It keeps
// what the pass commits the way the SQL Store does — a transaction's state
// and what it shows are shown's (store.go), a refusal's refusedState's,
// lists are in txOrder and writeBackOrder (order.go) — so that the pass
// reads back what it would read from an empty SQL store; it is not
// durable and refuses nothing for later passes (there are none: a file
// refused twice in the pass is reported twice).
//
// The records committed are kept as they were handed over (Commit's
// Decisions slice is not copied): a pass over a million transactions holds
// its decisions once. Indexes by key are built when first needed.
type memoryStore struct {
	mu       sync.Mutex
	revision map[string]int64
	files    map[string]bool // job, content hash
	listings map[string]bool // job, source, path, size, modification time
	commits  []memCommit
	// recs are the decisions committed, in commit order; decStates their
	// outbox states, decidedAt and rejectedAt when they were committed and
	// refused.
	recs       []DecisionRecord
	decStates  []string
	rejectedAt map[int32]time.Time
	// txs is where each transaction was inserted (its first record);
	// over what later records or refusals made it show instead of what
	// its first record shows.
	txs  map[txRef]int32
	over map[int32]txShown
	// byKey indexes recs by job and decision key (built when first needed).
	byKey   map[txRef]int32
	learned map[matcher.Learning]bool
	// examined and reported are the incremental bookkeeping (incremental.go).
	examined, reported map[string]string
	// shared are the first pass's open items, which the automatic records
	// that pass hands over name instead of each keeping a map of copies
	// (DecisionRecord.Items nil; see itemsOf). Set once, before any such
	// record is handed over; read without mu.
	shared sharedItems
}

// sharedItems are a pass's open items (items) and their index by ID (at).
type sharedItems struct {
	items []domain.OpenItem
	at    map[string]int32
}

// named is what DecisionRecord.Items holds for decision d: each item its
// allocations name, as the pass read it (an item the pass did not read:
// the zero OpenItem).
func (s sharedItems) named(d *domain.Decision) map[string]domain.OpenItem {
	named := make(map[string]domain.OpenItem, len(d.Allocations))
	for _, a := range d.Allocations {
		if k, ok := s.at[a.ItemID]; ok {
			named[a.ItemID] = s.items[k]
		} else {
			named[a.ItemID] = domain.OpenItem{}
		}
	}
	return named
}

// itemsSharer is a state store that keeps the pass's open items once
// (the memory store): when shareItems says so, the pass hands it records
// of automatic decisions without their Items, and itemsOf gives them back.
type itemsSharer interface {
	shareItems(items []domain.OpenItem, at map[string]int32) bool
	itemsOf(r *DecisionRecord) map[string]domain.OpenItem
}

var _ itemsSharer = (*memoryStore)(nil)

// shareItems implements itemsSharer: items and at are kept (not copied)
// and must not change afterwards. Only the first pass's are: the records
// of a later pass over the same store (tests) keep their own Items, as
// the items they name were when decided.
func (m *memoryStore) shareItems(items []domain.OpenItem, at map[string]int32) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.shared.at != nil {
		return false
	}
	m.shared = sharedItems{items: items, at: at}
	return true
}

// itemsOf implements itemsSharer: r's Items, or for an automatic decision
// handed over without them, the shared items its allocations name.
func (m *memoryStore) itemsOf(r *DecisionRecord) map[string]domain.OpenItem {
	if r.Items != nil || r.Decision.Outcome != domain.Auto || m.shared.at == nil {
		return r.Items
	}
	return m.shared.named(&r.Decision)
}

// txRef names a transaction (or a decision) of a job.
type txRef struct{ job, key string }

// memCommit is one commit: its job, time, author and records.
type memCommit struct {
	job        string
	at         time.Time
	first, end int32
}

// txShown is a transaction's state and decision once a later record or a
// refusal changed what its first record made it show.
type txShown struct {
	state string
	dec   domain.Decision
}

func newMemoryStore() *memoryStore {
	return &memoryStore{revision: map[string]int64{}, files: map[string]bool{}, listings: map[string]bool{},
		rejectedAt: map[int32]time.Time{}, over: map[int32]txShown{}, learned: map[matcher.Learning]bool{},
		examined: map[string]string{}, reported: map[string]string{}}
}

var _ StateStore = (*memoryStore)(nil)

func listingKey(job, source, path string, size int64, mod time.Time) string {
	return job + "\x00" + source + "\x00" + path + "\x00" + strconv.FormatInt(size, 10) + "\x00" + listingTime(mod)
}

// SeenListing implements StateStore (see Store.SeenListing).
func (m *memoryStore) SeenListing(_ context.Context, job, source, path string, size int64, mod time.Time) (bool, error) {
	if size < 0 || mod.IsZero() {
		return false, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.listings[listingKey(job, source, path, size, mod)], nil
}

// FileDone implements StateStore.
func (m *memoryStore) FileDone(_ context.Context, job, hash string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files[job+"\x00"+hash], nil
}

// commitOf is the commit record i belongs to.
func (m *memoryStore) commitOf(i int32) memCommit {
	k, _ := slices.BinarySearchFunc(m.commits, i, func(c memCommit, i int32) int {
		switch {
		case c.end <= i:
			return -1
		case c.first > i:
			return 1
		}
		return 0
	})
	return m.commits[k]
}

// shownAt is what the transaction inserted by record i is and shows now.
func (m *memoryStore) shownAt(i int32) (string, domain.Decision) {
	if o, ok := m.over[i]; ok {
		return o.state, o.dec
	}
	state, _, cur := shown(m.recs[i])
	return state, cur
}

// storedAt is the transaction inserted by record i as StoredTx.
func (m *memoryStore) storedAt(i int32) StoredTx {
	state, d := m.shownAt(i)
	return StoredTx{Tx: m.recs[i].Tx, FileHash: m.recs[i].FileHash, State: state, Decision: d}
}

// list returns the job's transactions that keep says to keep, in txOrder.
func (m *memoryStore) list(job string, keep func(i int32, state string, d *domain.Decision) bool) []StoredTx {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StoredTx
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			if !m.recs[i].New {
				continue
			}
			state, d := m.shownAt(i)
			if keep(i, state, &d) {
				out = append(out, StoredTx{Tx: m.recs[i].Tx, FileHash: m.recs[i].FileHash, State: state, Decision: d})
			}
		}
	}
	sortTxs(out)
	return out
}

// Transactions implements StateStore.
func (m *memoryStore) Transactions(_ context.Context, job string, states ...string) ([]StoredTx, error) {
	return m.list(job, func(_ int32, state string, _ *domain.Decision) bool { return slices.Contains(states, state) }), nil
}

// Transaction implements StateStore.
func (m *memoryStore) Transaction(_ context.Context, job, key string) (StoredTx, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.txIndex()[txRef{job, key}]
	if !ok {
		return StoredTx{}, false, nil
	}
	return m.storedAt(i), true, nil
}

// txIndex indexes the transactions by job and key (m.mu held).
func (m *memoryStore) txIndex() map[txRef]int32 {
	if m.txs == nil {
		m.txs = map[txRef]int32{}
		for _, c := range m.commits {
			for i := c.first; i < c.end; i++ {
				if m.recs[i].New {
					m.txs[txRef{c.job, m.recs[i].Tx.Key}] = i
				}
			}
		}
	}
	return m.txs
}

// keyIndex indexes the decisions by job and key (m.mu held).
func (m *memoryStore) keyIndex() map[txRef]int32 {
	if m.byKey == nil {
		m.byKey = make(map[txRef]int32, len(m.recs))
		for _, c := range m.commits {
			for i := c.first; i < c.end; i++ {
				if _, dup := m.byKey[txRef{c.job, m.recs[i].Key}]; !dup { // ON CONFLICT DO NOTHING
					m.byKey[txRef{c.job, m.recs[i].Key}] = i
				}
			}
		}
	}
	return m.byKey
}

// DueWaiting implements StateStore.
func (m *memoryStore) DueWaiting(_ context.Context, job string, cutoff time.Time) ([]StoredTx, error) {
	return m.list(job, func(i int32, state string, _ *domain.Decision) bool {
		return state == txWaiting && m.commitOf(i).at.Before(cutoff)
	}), nil
}

// Exceptions implements StateStore.
func (m *memoryStore) Exceptions(_ context.Context, job string) ([]StoredTx, error) {
	return m.list(job, func(_ int32, _ string, d *domain.Decision) bool { return IsException(*d) }), nil
}

// SetAsideTxs implements StateStore.
func (m *memoryStore) SetAsideTxs(_ context.Context, job string, since time.Time) ([]StoredTx, error) {
	from := since.Format(time.DateOnly)
	return m.list(job, func(i int32, state string, _ *domain.Decision) bool {
		return (state == txIgnored || state == txCovered || state == txWaiting) && dateText(m.recs[i].Tx.BookingDate) >= from
	}), nil
}

// Memory implements StateStore: what the store's commits learned, and
// the letters that stand of the transactions first seen since.
func (m *memoryStore) Memory(_ context.Context, job string, since time.Time) (matcher.Memory, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem := matcher.Memory{IBANCustomers: map[string][]string{}, NameCustomers: map[string][]string{},
		Lettered: map[string][]domain.Allocation{}, LetteredRefs: map[string]string{}}
	for l := range m.learned {
		switch l.Kind {
		case "iban":
			mem.IBANCustomers[l.Value] = append(mem.IBANCustomers[l.Value], l.CustomerID)
		case "name":
			mem.NameCustomers[l.Value] = append(mem.NameCustomers[l.Value], l.CustomerID)
		}
	}
	for _, byValue := range []map[string][]string{mem.IBANCustomers, mem.NameCustomers} {
		for _, cs := range byValue {
			slices.Sort(cs)
		}
	}
	var lettered []StoredTx
	settled := map[string]domain.OpenItem{}
	for _, c := range m.commits {
		if c.job != job || c.at.Before(since) {
			continue
		}
		for i := c.first; i < c.end; i++ {
			r := &m.recs[i]
			if r.New {
				if st := m.storedAt(i); st.State == txLettered {
					lettered = append(lettered, st)
				}
			}
			if r.Decision.Outcome == domain.Auto && r.Reverses == "" && m.decStates[i] != decRejected && !m.undone(job, r.Key) {
				for id, it := range m.itemsOf(r) {
					if it.ID == "" {
						it.ID = id
					}
					settled[it.ID] = it
				}
			}
		}
	}
	sortTxs(lettered)
	for _, st := range lettered {
		mem.Lettered[st.Tx.Key] = st.Decision.Allocations
		mem.LetteredRefs[st.Tx.Ref] = st.Tx.Key
		if e := st.Tx.EndToEndID; e != "" && e != "NOTPROVIDED" {
			mem.LetteredRefs[e] = st.Tx.Key
		}
	}
	for _, it := range settled {
		mem.Settled = append(mem.Settled, it)
	}
	slices.SortFunc(mem.Settled, func(a, b domain.OpenItem) int { return strings.Compare(a.ID, b.ID) })
	return mem, nil
}

// undone reports whether a reversal not refused undoes the letter key (m.mu
// held).
func (m *memoryStore) undone(job, key string) bool {
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			if m.recs[i].Reverses == key && m.decStates[i] != decRejected {
				return true
			}
		}
	}
	return false
}

// SaveCommit implements StateStore: the records are kept as they are
// (c.Decisions is not copied; the caller hands it over).
func (m *memoryStore) SaveCommit(_ context.Context, c Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if int64(len(m.recs))+int64(len(c.Decisions)) > 1<<31-1 {
		return fmt.Errorf("recording %d decisions: the memory store holds at most 2^31", len(c.Decisions))
	}
	for _, f := range c.Files {
		m.files[c.Job+"\x00"+f.Hash] = true
		if f.Size >= 0 && !f.ModTime.IsZero() {
			m.listings[listingKey(c.Job, f.Source, f.Path, f.Size, f.ModTime)] = true
		}
	}
	first := int32(len(m.recs))
	if len(m.recs) == 0 {
		m.recs = c.Decisions
	} else {
		m.recs = append(m.recs, c.Decisions...)
	}
	m.commits = append(m.commits, memCommit{job: c.Job, at: c.At, first: first, end: int32(len(m.recs))})
	for i := first; i < int32(len(m.recs)); i++ {
		_, decState, _ := shown(m.recs[i])
		m.decStates = append(m.decStates, decState)
		r := &m.recs[i]
		if m.txs != nil && r.New {
			if _, ok := m.txs[txRef{c.Job, r.Tx.Key}]; !ok {
				m.txs[txRef{c.Job, r.Tx.Key}] = i
			}
		}
		if m.byKey != nil {
			if _, dup := m.byKey[txRef{c.Job, r.Key}]; !dup {
				m.byKey[txRef{c.Job, r.Key}] = i
			}
		}
		if !r.New {
			// A later decision on a recorded transaction: what it shows now.
			if at, ok := m.txIndex()[txRef{c.Job, r.Tx.Key}]; ok {
				state, _, cur := shown(*r)
				m.over[at] = txShown{state: state, dec: cur}
			}
		}
	}
	for _, t := range c.Enriched {
		if at, ok := m.txIndex()[txRef{c.Job, t.Key}]; ok {
			m.recs[at].Tx = t
		}
	}
	for _, l := range c.Learned {
		m.learned[l] = true
	}
	if !c.empty() {
		m.revision[c.Job]++
	}
	return nil
}

// letters is Store.letters over the records (m.mu held).
func (m *memoryStore) letters(job, txKey string) []AutoDecision {
	var all []AutoDecision
	reversal := map[string]string{}
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			r := &m.recs[i]
			if r.Tx.Key != txKey || (r.Decision.Outcome != domain.Auto && r.Reverses == "") {
				continue
			}
			if r.Reverses != "" {
				reversal[r.Reverses] = m.decStates[i]
				continue
			}
			all = append(all, AutoDecision{Key: r.Key, Decision: r.Decision, Items: m.itemsOf(r), State: m.decStates[i], DecidedAt: c.at})
		}
	}
	for i := range all {
		all[i].Reversal = reversal[all[i].Key]
	}
	sortLetters(all)
	return all
}

// allLetters implements StateStore.
func (m *memoryStore) allLetters(_ context.Context, job, txKey string) ([]AutoDecision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.letters(job, txKey), nil
}

// Letters implements StateStore.
func (m *memoryStore) Letters(_ context.Context, job, txKey string) ([]AutoDecision, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.letters(job, txKey)
	return standingChain(all), len(all), nil
}

// LastLetter implements StateStore.
func (m *memoryStore) LastLetter(ctx context.Context, job, txKey string) (*AutoDecision, int, error) {
	chain, count, err := m.Letters(ctx, job, txKey)
	if len(chain) > 0 {
		return &chain[len(chain)-1], count, err
	}
	return nil, count, err
}

// LastRejected implements StateStore.
func (m *memoryStore) LastRejected(_ context.Context, job, txKey string) (*domain.Decision, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last *domain.Decision
	var lastAt time.Time
	lastKey := ""
	for i, at := range m.rejectedAt {
		r := &m.recs[i]
		if m.commitOf(i).job != job || r.Tx.Key != txKey || m.decStates[i] != decRejected {
			continue
		}
		if last == nil || at.After(lastAt) || at.Equal(lastAt) && r.Key > lastKey {
			d := r.Decision
			last, lastAt, lastKey = &d, at, r.Key
		}
	}
	return last, lastAt, nil
}

// DecisionState implements StateStore.
func (m *memoryStore) DecisionState(_ context.Context, job, key string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.keyIndex()[txRef{job, key}]
	if !ok {
		return "", false, nil
	}
	return m.decStates[i], true, nil
}

// CompactHistory implements StateStore: one pass keeps no history to
// compact.
func (m *memoryStore) CompactHistory(context.Context, string, time.Time, time.Time) (int, error) {
	return 0, nil
}

// RedactPersonalData implements StateStore: nothing is kept long enough to
// be redacted.
func (m *memoryStore) RedactPersonalData(context.Context, string, time.Time, time.Time) (int, error) {
	return 0, nil
}

// Pending implements StateStore.
func (m *memoryStore) Pending(_ context.Context, job string) ([]PendingDecision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []PendingDecision
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			if m.decStates[i] == decPending {
				r := &m.recs[i]
				row := r // the transaction's row: its data and file
				if at, ok := m.txIndex()[txRef{job, r.Tx.Key}]; ok {
					row = &m.recs[at]
				}
				out = append(out, PendingDecision{Key: r.Key, FileHash: row.FileHash, Tx: row.Tx, Decision: r.Decision,
					Items: m.itemsOf(r), DecidedAt: c.at.UTC(), Reverses: r.Reverses})
			}
		}
	}
	sortPending(out)
	return out, nil
}

// MarkApplied implements StateStore.
func (m *memoryStore) MarkApplied(_ context.Context, job string, keys []string, _ time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	idx := m.keyIndex()
	for _, k := range keys {
		if i, ok := idx[txRef{job, k}]; ok && m.decStates[i] == decPending {
			m.decStates[i] = decApplied
		}
	}
	m.revision[job]++
	return nil
}

// MarkRejected implements StateStore (see Store.MarkRejected; what the
// transaction becomes is refusedState's).
func (m *memoryStore) MarkRejected(_ context.Context, job string, rejected []Rejection, at time.Time) error {
	if len(rejected) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rejected {
		i, ok := m.keyIndex()[txRef{job, r.Key}]
		if !ok || m.decStates[i] != decPending {
			continue
		}
		m.decStates[i] = decRejected
		m.rejectedAt[i] = at
		rec := &m.recs[i]
		txAt, ok := m.txIndex()[txRef{job, rec.Tx.Key}]
		if !ok {
			continue
		}
		state, dec := refusedState(rec.Decision, m.itemsOf(rec), r, m.letters(job, rec.Tx.Key))
		m.over[txAt] = txShown{state: state, dec: dec}
	}
	m.revision[job]++
	return nil
}

// MarkReversalsRejected implements StateStore (see
// Store.MarkReversalsRejected).
func (m *memoryStore) MarkReversalsRejected(_ context.Context, job string, keys []string, reason string, at time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var order []string
	for _, k := range keys {
		i, ok := m.keyIndex()[txRef{job, k}]
		if !ok {
			return fmt.Errorf("reading reversal %s: not recorded", k)
		}
		m.decStates[i] = decRejected
		m.rejectedAt[i] = at
		if !slices.Contains(order, m.recs[i].Tx.Key) {
			order = append(order, m.recs[i].Tx.Key)
		}
	}
	for _, txKey := range order {
		d, ok := standing(m.letters(job, txKey))
		if !ok {
			return fmt.Errorf("restoring the letter of %s: no letter stands", txKey)
		}
		d.Explanation += " (unlettering refused by the ledger: " + reason + ")"
		if txAt, ok := m.txIndex()[txRef{job, txKey}]; ok {
			m.over[txAt] = txShown{state: txLettered, dec: d}
		}
	}
	m.revision[job]++
	return nil
}

// Refuse, Held, HeldListing, ForgetOtherVersions and CountHeld implement
// StateStore: one pass keeps no refusal for later.
func (m *memoryStore) Refuse(context.Context, string, RefusedFile) error { return nil }

func (m *memoryStore) Held(context.Context, string, string) (bool, error) { return false, nil }

func (m *memoryStore) HeldListing(context.Context, string, string, string, int64, time.Time) (bool, error) {
	return false, nil
}

func (m *memoryStore) ForgetOtherVersions(context.Context, string, string, string, string) (int, error) {
	return 0, nil
}

func (m *memoryStore) CountHeld(context.Context, string) (int, error) { return 0, nil }

// prior implements StateStore: the identity rule looks up nothing (the
// pass's own files are in its intake).
func (m *memoryStore) prior(string) priorState { return nil }

// examState implements StateStore.
func (m *memoryStore) examState(_ context.Context, job string, now, waitCutoff time.Time) (examInputs, string, error) {
	m.mu.Lock()
	e := examInputs{Revision: m.revision[job], Memory: int64(len(m.learned)), Day: now.UTC().Format("2006-01-02")}
	recorded := m.examined[job]
	m.mu.Unlock()
	due, _ := m.DueWaiting(context.Background(), job, waitCutoff)
	e.DueWaiting = len(due)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.rejectedAt {
		if now.Sub(t) < RejectedRetryAfter {
			e.Refusals++
		}
	}
	return e, recorded, nil
}

// recordExamined implements StateStore.
func (m *memoryStore) recordExamined(_ context.Context, job string, e examInputs, settled bool, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !settled {
		m.examined[job] = e.String() + changedMark
	} else if e.Revision == m.revision[job] {
		m.examined[job] = e.String()
	}
	return nil
}

// reportState implements StateStore.
func (m *memoryStore) reportState(_ context.Context, job string) (int64, reportedFigures, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last, _ := decodeReported(m.reported[job])
	return m.revision[job], last, nil
}

// recordReported implements StateStore.
func (m *memoryStore) recordReported(_ context.Context, job string, revision int64, f reportedFigures) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if revision == m.revision[job] {
		m.reported[job] = f.encode()
	}
	return nil
}
