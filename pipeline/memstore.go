package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/matcher"
	"github.com/lettrage/lettrage/pipeline/decide"
	"github.com/lettrage/lettrage/pipeline/state"
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
// The records committed are kept as memRecs that point into what was
// handed over (Commit's Decisions, not copied, or the pass's own
// transactions and decisions: passSharer): a pass over a million
// transactions holds them once. Indexes by key are built when first
// needed.
type memoryStore struct {
	mu       sync.Mutex
	revision map[string]int64
	files    map[string]bool // job, content hash
	listings map[string]bool // job, source, path, size, modification time
	commits  []memCommit
	// recs are the decisions committed, in commit order; decStates their
	// outbox states, decidedAt and rejectedAt when they were committed and
	// refused.
	recs       []memRec
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
	// (memRec.items nil; see itemsOf). Set once, before any such record is
	// handed over; read without mu.
	shared sharedItems
}

// memRec is a committed record as the memory store keeps it: what a
// DecisionRecord holds, with its transaction and decision by reference
// (into the Commit's Decisions or the pass's own slices) and the fields
// most records leave unset apart — 72 bytes a record instead of
// DecisionRecord's 312.
type memRec struct {
	key, file string
	tx        *domain.Transaction
	dec       *domain.Decision
	// items nil: for an automatic decision of the pass that shared its
	// items, those its allocations name (itemsOf).
	items map[string]domain.OpenItem
	more  *memRecMore // nil: no Shows, Reverses or State
	new   bool
}

// memRecMore is a record's Shows, Reverses and State.
type memRecMore struct {
	shows           *domain.Decision
	reverses, state string
}

// recOf is the memRec of a record handed over (r is not copied).
func recOf(r *decide.DecisionRecord) memRec {
	rec := memRec{key: r.Key, file: r.FileHash, tx: r.Tx, dec: &r.Decision, items: r.Items, new: r.New}
	if r.Shows != nil || r.Reverses != "" || r.State != "" {
		rec.more = &memRecMore{shows: r.Shows, reverses: r.Reverses, state: r.State}
	}
	return rec
}

// reverses is the record's Reverses.
func (r *memRec) reverses() string {
	if r.more == nil {
		return ""
	}
	return r.more.reverses
}

// shown is shown (store.go) of r.
func (r *memRec) shown() (state, decState string, current domain.Decision) {
	d := decide.DecisionRecord{Key: r.key, Tx: r.tx, FileHash: r.file, Decision: *r.dec, New: r.new}
	if r.more != nil {
		d.Shows, d.Reverses, d.State = r.more.shows, r.more.reverses, r.more.state
	}
	return decide.Shown(d)
}

// sharedItems are a pass's open items (items) and their index by ID (at).
type sharedItems struct {
	items []domain.OpenItem
	at    map[string]int32
}

// Named implements decide.ItemSnapshots (named).
func (s sharedItems) Named(d *domain.Decision) map[string]domain.OpenItem { return s.named(d) }

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

// deliveriesForgetter is a state store that keeps no record of
// re-deliveries (state.Commit.Deliveries): the memory store, dropped at
// the end of its one pass. The intake then does not record them (each a
// copy of the transaction re-delivered: about 110 MB at 1,000,000
// remittance payments).
type deliveriesForgetter interface {
	forgetsDeliveries()
}

func (*memoryStore) forgetsDeliveries() {}

// passSharer is a state store that keeps a pass's open items,
// transactions and decisions once (the memory store). When shareItems says
// so, the pass hands it the records of its new transactions as a
// sharedBatch (saveShared instead of SaveCommit): their transactions and
// decisions stay in the pass's slices, their items in the pass's open
// items; outbox gives back the automatic decisions just committed, to
// write back.
type passSharer interface {
	shareItems(items []domain.OpenItem, at map[string]int32) bool
	saveShared(ctx context.Context, c state.Commit, b sharedBatch) error
	outbox(job string) *outbox
}

// sharedBatch is the records of a pass's new transactions handed to a
// passSharer: record k is recs[k] on txs[at], decided decs[at], read from
// files[at], placed in the commit before c.Decisions[recs[k].before].
type sharedBatch struct {
	txs   []domain.Transaction
	decs  []domain.Decision
	files []string
	recs  []sharedRec
}

// sharedRec is one record of a sharedBatch.
type sharedRec struct {
	key        string
	at, before int32
}

var _ passSharer = (*memoryStore)(nil)

// shareItems implements passSharer: items and at are kept (not copied)
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

// itemsOf is r's items: its own, or for an automatic decision handed
// over without them, the shared items its allocations name.
func (m *memoryStore) itemsOf(r *memRec) map[string]domain.OpenItem {
	if r.items != nil || r.dec.Outcome != domain.Auto || m.shared.at == nil {
		return r.items
	}
	return m.shared.named(r.dec)
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
	return job + "\x00" + source + "\x00" + path + "\x00" + strconv.FormatInt(size, 10) + "\x00" + state.ListingTime(mod)
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
	state, _, cur := m.recs[i].shown()
	return state, cur
}

// storedAt is the transaction inserted by record i as StoredTx.
func (m *memoryStore) storedAt(i int32) decide.StoredTx {
	state, d := m.shownAt(i)
	return decide.StoredTx{Tx: *m.recs[i].tx, FileHash: m.recs[i].file, State: state, Decision: d}
}

// list returns the job's transactions that keep says to keep, in txOrder.
func (m *memoryStore) list(job string, keep func(i int32, state string, d *domain.Decision) bool) []decide.StoredTx {
	m.mu.Lock()
	defer m.mu.Unlock()
	// The records kept are found first, then copied out once into a list
	// of their number: a StoredTx is large (the transaction and its
	// decision), and growing the list by appending copied each several
	// times (a pass's exceptions run to tens of thousands).
	var kept []int32
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			if !m.recs[i].new {
				continue
			}
			state, d := m.shownAt(i)
			if keep(i, state, &d) {
				kept = append(kept, i)
			}
		}
	}
	if len(kept) == 0 {
		return nil
	}
	out := make([]decide.StoredTx, len(kept))
	for k, i := range kept {
		out[k] = m.storedAt(i)
	}
	state.SortTxs(out)
	return out
}

// Transactions implements StateStore.
func (m *memoryStore) Transactions(_ context.Context, job string, states ...string) ([]decide.StoredTx, error) {
	return m.list(job, func(_ int32, state string, _ *domain.Decision) bool { return slices.Contains(states, state) }), nil
}

// Transaction implements StateStore.
func (m *memoryStore) Transaction(_ context.Context, job, key string) (decide.StoredTx, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.txIndex()[txRef{job, key}]
	if !ok {
		return decide.StoredTx{}, false, nil
	}
	return m.storedAt(i), true, nil
}

// txIndex indexes the transactions by job and key (m.mu held).
func (m *memoryStore) txIndex() map[txRef]int32 {
	if m.txs == nil {
		m.txs = map[txRef]int32{}
		for _, c := range m.commits {
			for i := c.first; i < c.end; i++ {
				if m.recs[i].new {
					m.txs[txRef{c.job, m.recs[i].tx.Key}] = i
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
				if _, dup := m.byKey[txRef{c.job, m.recs[i].key}]; !dup { // ON CONFLICT DO NOTHING
					m.byKey[txRef{c.job, m.recs[i].key}] = i
				}
			}
		}
	}
	return m.byKey
}

// DueWaiting implements StateStore.
func (m *memoryStore) DueWaiting(_ context.Context, job string, cutoff time.Time) ([]decide.StoredTx, error) {
	return m.list(job, func(i int32, state string, _ *domain.Decision) bool {
		return state == decide.TxWaiting && m.commitOf(i).at.Before(cutoff)
	}), nil
}

// Exceptions implements StateStore.
func (m *memoryStore) Exceptions(_ context.Context, job string) ([]decide.StoredTx, error) {
	return m.list(job, func(_ int32, _ string, d *domain.Decision) bool { return decide.IsException(*d) }), nil
}

// SetAsideTxs implements StateStore.
func (m *memoryStore) SetAsideTxs(_ context.Context, job string, since time.Time) ([]decide.StoredTx, error) {
	from := since.Format(time.DateOnly)
	return m.list(job, func(i int32, st string, _ *domain.Decision) bool {
		return (st == decide.TxIgnored || st == decide.TxCovered || st == decide.TxWaiting) && state.DateText(m.recs[i].tx.BookingDate) >= from
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
	var lettered []decide.StoredTx
	settled := map[string]domain.OpenItem{}
	for _, c := range m.commits {
		if c.job != job || c.at.Before(since) {
			continue
		}
		for i := c.first; i < c.end; i++ {
			r := &m.recs[i]
			if r.new {
				if st := m.storedAt(i); st.State == decide.TxLettered {
					lettered = append(lettered, st)
				}
			}
			if r.dec.Outcome == domain.Auto && r.reverses() == "" && m.decStates[i] != decide.DecRejected && !m.undone(job, r.key) {
				for id, it := range m.itemsOf(r) {
					if it.ID == "" {
						it.ID = id
					}
					settled[it.ID] = it
				}
			}
		}
	}
	state.SortTxs(lettered)
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
			if m.recs[i].reverses() == key && m.decStates[i] != decide.DecRejected {
				return true
			}
		}
	}
	return false
}

// SaveCommit implements StateStore: the records are kept where they are
// (c.Decisions is not copied; the caller hands it over).
func (m *memoryStore) SaveCommit(ctx context.Context, c state.Commit) error {
	return m.saveShared(ctx, c, sharedBatch{})
}

// saveShared implements passSharer: SaveCommit with b's records too, each
// placed before the record of c.Decisions it names (b's slices are kept,
// not copied, and must not change afterwards).
func (m *memoryStore) saveShared(_ context.Context, c state.Commit, b sharedBatch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(c.Decisions) + len(b.recs)
	if int64(len(m.recs))+int64(n) > 1<<31-1 {
		return fmt.Errorf("recording %d decisions: the memory store holds at most 2^31", n)
	}
	for _, f := range c.Files {
		m.files[c.Job+"\x00"+f.Hash] = true
		if f.Size >= 0 && !f.ModTime.IsZero() {
			m.listings[listingKey(c.Job, f.Source, f.Path, f.Size, f.ModTime)] = true
		}
	}
	first := int32(len(m.recs))
	m.recs = slices.Grow(m.recs, n)
	k := 0
	shared := func(before int) {
		for ; k < len(b.recs) && int(b.recs[k].before) == before; k++ {
			r := &b.recs[k]
			m.recs = append(m.recs, memRec{key: r.key, file: b.files[r.at], tx: &b.txs[r.at], dec: &b.decs[r.at], new: true})
		}
	}
	for i := range c.Decisions {
		shared(i)
		r := recOf(&c.Decisions[i])
		if c.Snapshots != nil {
			r.items = decide.ItemsOf(&c.Decisions[i], c.Snapshots)
		}
		m.recs = append(m.recs, r)
	}
	shared(len(c.Decisions))
	m.commits = append(m.commits, memCommit{job: c.Job, at: c.At, first: first, end: int32(len(m.recs))})
	for i := first; i < int32(len(m.recs)); i++ {
		r := &m.recs[i]
		_, decState, _ := r.shown()
		m.decStates = append(m.decStates, decState)
		if m.txs != nil && r.new {
			if _, ok := m.txs[txRef{c.Job, r.tx.Key}]; !ok {
				m.txs[txRef{c.Job, r.tx.Key}] = i
			}
		}
		if m.byKey != nil {
			if _, dup := m.byKey[txRef{c.Job, r.key}]; !dup {
				m.byKey[txRef{c.Job, r.key}] = i
			}
		}
		if !r.new {
			// A later decision on a recorded transaction: what it shows now.
			if at, ok := m.txIndex()[txRef{c.Job, r.tx.Key}]; ok {
				state, _, cur := r.shown()
				m.over[at] = txShown{state: state, dec: cur}
			}
		}
	}
	for _, t := range c.Enriched {
		if at, ok := m.txIndex()[txRef{c.Job, t.Key}]; ok {
			m.recs[at].tx = &t
		}
	}
	for _, l := range c.Learned {
		m.learned[l] = true
	}
	if !c.Empty() || len(b.recs) > 0 {
		m.revision[c.Job]++
	}
	return nil
}

// outbox implements passSharer: what the job's last commit left PENDING,
// as pendingOf gives it (in writeBackOrder), read in place.
func (m *memoryStore) outbox(job string) *outbox {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := &memOutbox{m: m}
	for k := len(m.commits) - 1; k >= 0; k-- {
		c := m.commits[k]
		if c.job != job {
			continue
		}
		o.recs, o.at = m.recs[:c.end], c.at.UTC()
		for i := c.first; i < c.end; i++ {
			if r := &m.recs[i]; r.dec.Outcome == domain.Auto || r.reverses() != "" {
				o.idx = append(o.idx, i)
			}
		}
		break
	}
	perm := state.OrderBy(len(o.idx), func(k int) state.OrderKey {
		r := &o.recs[o.idx[k]]
		return state.WriteBackKey(r.file, r.tx, r.key)
	})
	for k, i := range perm {
		perm[k] = o.idx[i]
	}
	o.idx = perm
	return &outbox{src: o}
}

// memOutbox is the outbox over a memory store's records: recs[idx[i]] is
// the i-th decision, decided at.
type memOutbox struct {
	m    *memoryStore
	recs []memRec
	idx  []int32
	at   time.Time
}

func (o *memOutbox) len() int { return len(o.idx) }

func (o *memOutbox) get(i int) decide.PendingDecision {
	r := &o.recs[o.idx[i]]
	return decide.PendingDecision{Key: r.key, FileHash: r.file, Tx: *r.tx, Decision: *r.dec, Items: o.m.itemsOf(r),
		DecidedAt: o.at, Reverses: r.reverses()}
}

func (o *memOutbox) keyed(i int) connectors.KeyedDecision {
	r := &o.recs[o.idx[i]]
	return connectors.KeyedDecision{Key: r.key, Tx: *r.tx, Decision: *r.dec, Items: o.m.itemsOf(r), DecidedAt: o.at}
}

func (o *memOutbox) head(i int) (key, file, reverses string) {
	r := &o.recs[o.idx[i]]
	return r.key, r.file, r.reverses()
}

// letters is Store.letters over the records (m.mu held).
func (m *memoryStore) letters(job, txKey string) []decide.AutoDecision {
	var all []decide.AutoDecision
	reversal := map[string]string{}
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			r := &m.recs[i]
			if r.tx.Key != txKey || (r.dec.Outcome != domain.Auto && r.reverses() == "") {
				continue
			}
			if r.reverses() != "" {
				reversal[r.reverses()] = m.decStates[i]
				continue
			}
			all = append(all, decide.AutoDecision{Key: r.key, Decision: *r.dec, Items: m.itemsOf(r), State: m.decStates[i], DecidedAt: c.at})
		}
	}
	for i := range all {
		all[i].Reversal = reversal[all[i].Key]
	}
	decide.SortLetters(all)
	return all
}

// AllLetters implements StateStore.
func (m *memoryStore) AllLetters(_ context.Context, job, txKey string) ([]decide.AutoDecision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.letters(job, txKey), nil
}

// Letters implements StateStore.
func (m *memoryStore) Letters(_ context.Context, job, txKey string) ([]decide.AutoDecision, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	all := m.letters(job, txKey)
	return decide.StandingChain(all), len(all), nil
}

// LastLetter implements StateStore.
func (m *memoryStore) LastLetter(ctx context.Context, job, txKey string) (*decide.AutoDecision, int, error) {
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
		if m.commitOf(i).job != job || r.tx.Key != txKey || m.decStates[i] != decide.DecRejected {
			continue
		}
		if last == nil || at.After(lastAt) || at.Equal(lastAt) && r.key > lastKey {
			d := *r.dec
			last, lastAt, lastKey = &d, at, r.key
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
func (m *memoryStore) Pending(_ context.Context, job string) ([]decide.PendingDecision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []decide.PendingDecision
	for _, c := range m.commits {
		if c.job != job {
			continue
		}
		for i := c.first; i < c.end; i++ {
			if m.decStates[i] == decide.DecPending {
				r := &m.recs[i]
				row := r // the transaction's row: its data and file
				if at, ok := m.txIndex()[txRef{job, r.tx.Key}]; ok {
					row = &m.recs[at]
				}
				out = append(out, decide.PendingDecision{Key: r.key, FileHash: row.file, Tx: *row.tx, Decision: *r.dec,
					Items: m.itemsOf(r), DecidedAt: c.at.UTC(), Reverses: r.reverses()})
			}
		}
	}
	state.SortPending(out)
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
		if i, ok := idx[txRef{job, k}]; ok && m.decStates[i] == decide.DecPending {
			m.decStates[i] = decide.DecApplied
		}
	}
	m.revision[job]++
	return nil
}

// MarkRejected implements StateStore (see Store.MarkRejected; what the
// transaction becomes is refusedState's).
func (m *memoryStore) MarkRejected(_ context.Context, job string, rejected []decide.Rejection, at time.Time) error {
	if len(rejected) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rejected {
		i, ok := m.keyIndex()[txRef{job, r.Key}]
		if !ok || m.decStates[i] != decide.DecPending {
			continue
		}
		m.decStates[i] = decide.DecRejected
		m.rejectedAt[i] = at
		rec := &m.recs[i]
		txAt, ok := m.txIndex()[txRef{job, rec.tx.Key}]
		if !ok {
			continue
		}
		state, dec := decide.RefusedState(*rec.dec, m.itemsOf(rec), r, m.letters(job, rec.tx.Key))
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
		m.decStates[i] = decide.DecRejected
		m.rejectedAt[i] = at
		if !slices.Contains(order, m.recs[i].tx.Key) {
			order = append(order, m.recs[i].tx.Key)
		}
	}
	for _, txKey := range order {
		d, ok := decide.Standing(m.letters(job, txKey))
		if !ok {
			return fmt.Errorf("restoring the letter of %s: no letter stands", txKey)
		}
		d.Explanation += " (unlettering refused by the ledger: " + reason + ")"
		if txAt, ok := m.txIndex()[txRef{job, txKey}]; ok {
			m.over[txAt] = txShown{state: decide.TxLettered, dec: d}
		}
	}
	m.revision[job]++
	return nil
}

// Refuse, Held, HeldListing, ForgetOtherVersions and CountHeld implement
// StateStore: one pass keeps no refusal for later.
func (m *memoryStore) Refuse(context.Context, string, state.RefusedFile) error { return nil }

func (m *memoryStore) Held(context.Context, string, string) (bool, error) { return false, nil }

func (m *memoryStore) HeldListing(context.Context, string, string, string, int64, time.Time) (bool, error) {
	return false, nil
}

func (m *memoryStore) ForgetOtherVersions(context.Context, string, string, string, string) (int, error) {
	return 0, nil
}

func (m *memoryStore) CountHeld(context.Context, string) (int, error) { return 0, nil }

// Prior implements StateStore: the identity rule looks up nothing (the
// pass's own files are in its intake).
func (m *memoryStore) Prior(string) state.Prior { return nil }

// ExamState implements StateStore.
func (m *memoryStore) ExamState(_ context.Context, job string, now, waitCutoff time.Time) (state.ExamInputs, string, error) {
	m.mu.Lock()
	e := state.ExamInputs{Revision: m.revision[job], Memory: int64(len(m.learned)), Day: now.UTC().Format("2006-01-02")}
	recorded := m.examined[job]
	m.mu.Unlock()
	due, _ := m.DueWaiting(context.Background(), job, waitCutoff)
	e.DueWaiting = len(due)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.rejectedAt {
		if now.Sub(t) < decide.RejectedRetryAfter {
			e.Refusals++
		}
	}
	return e, recorded, nil
}

// RecordExamined implements StateStore.
func (m *memoryStore) RecordExamined(_ context.Context, job string, e state.ExamInputs, settled bool, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !settled {
		m.examined[job] = e.String() + state.ChangedMark
	} else if e.Revision == m.revision[job] {
		m.examined[job] = e.String()
	}
	return nil
}

// ReportState implements StateStore.
func (m *memoryStore) ReportState(_ context.Context, job string) (int64, state.ReportedFigures, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last, _ := state.DecodeReported(m.reported[job])
	return m.revision[job], last, nil
}

// RecordReported implements StateStore.
func (m *memoryStore) RecordReported(_ context.Context, job string, revision int64, f state.ReportedFigures) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if revision == m.revision[job] {
		m.reported[job] = f.Encode()
	}
	return nil
}
