package file

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/connectors"
	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/internal/csvsafe"
	"github.com/lettrage/lettrage/internal/durable"
)

// ContractHeader is the header row of the matches.csv contract: one row
// per automatic allocation. Journals written before the FEC columns were
// added have exactly this header; the ledger keeps appending rows of this
// shape to them.
var ContractHeader = []string{
	"tx_ref", "account_iban", "booking_date", "tx_amount", "currency", "counterparty_name",
	"open_item_id", "document_number", "customer_id", "allocated_amount", "writeoff_amount",
	"rule", "confidence", "explanation", "decision_key", "lettered_at",
}

// FECHeader names the columns the journal adds after the contract ones,
// for accounting packages that import lettering (the French FEC notions):
// the lettering code of the decision (EcritureLet), the lettering date
// (DateLet), the bank journal and the customer account.
var FECHeader = []string{"lettering_code", "lettering_date", "journal_code", "customer_account"}

// PostingHeader names the columns the journal adds after FECHeader for
// what a decision books besides its allocations (domain.Posting): the
// posting's kind (on_account, write_off, or cash_discount: the part of an
// open item a payer deducted as a discount, closed without cash) and its
// reason code. Both are empty on the rows of allocations.
var PostingHeader = []string{"posting_kind", "posting_reason"}

// FXHeader names the columns the journal adds after PostingHeader for an
// allocation that settles an item in another currency than the cash (an
// FX rule): what it settles in the item's currency and that currency
// (domain.Allocation.ItemAmount and ItemCurrency). allocated_amount stays
// the cash in the transaction's currency. Both are empty on the rows of
// same-currency allocations and of postings.
var FXHeader = []string{"item_amount", "item_currency"}

// JournalHeader is the header row of the journal the ledger writes: the
// contract columns, then FECHeader, then PostingHeader, then FXHeader.
var JournalHeader = concat(ContractHeader, FECHeader, PostingHeader, FXHeader)

// postingJournalHeader is the header of journals written before the FX
// columns were added. The ledger keeps appending rows of that shape to
// them, and refuses cross-currency allocations there.
var postingJournalHeader = concat(ContractHeader, FECHeader, PostingHeader)

// fecJournalHeader is the header of journals written before the posting
// columns were added: the contract columns and FECHeader. The ledger keeps
// appending rows of that shape to them, and refuses postings there.
var fecJournalHeader = concat(ContractHeader, FECHeader)

func concat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// journalNotText tells the columns of the journal that are amounts, dates
// or numbers: every other one is a text cell, neutralised when written
// (csvsafe: a leading '=', '+', '-', '@', tab or CR gets a quote) and
// unescaped when read back.
var journalNotText = csvsafe.Columns(JournalHeader, "booking_date", "tx_amount", "allocated_amount",
	"writeoff_amount", "confidence", "lettered_at", "lettering_date", "item_amount")

// unescapeRow reverses the text-cell escape of a row read back from a
// journal (amounts never carry it).
func unescapeRow(rec []string) []string {
	for i, v := range rec {
		rec[i] = csvsafe.Unescape(v)
	}
	return rec
}

// Column positions in JournalHeader that the ledger reads back.
const (
	jOpenItemID = 6
	jCustomerID = 8
	jAllocated  = 9
	jWriteOff   = 10
	jKey        = 14
	jLetteredAt = 15
	jCode       = 16
	jDate       = 17
	jAccount    = 19
	jKind       = 20
	jReason     = 21
	jItemAmount = 22
	jItemCcy    = 23
)

// MatchRows formats a decision as matches.csv rows (ContractHeader order):
// one per allocation, then one per posting. Dates are YYYY-MM-DD, amounts
// exactly as Amount.String(), confidence with two decimals, lettered_at
// RFC 3339 UTC of DecidedAt. IBANs are written in full: this is the
// accounting record. The row of a posting has no open_item_id nor
// document_number, the credited customer (on_account) or none (write_off)
// in customer_id, and the posted amount in allocated_amount; only the
// journal's posting_kind column tells it from an allocation. A decision
// without allocations nor postings gives no rows.
func MatchRows(d connectors.KeyedDecision) [][]string { return matchRows(d, 0) }

// matchRows is MatchRows with room in each row for extra more cells (the
// journal's): appending them then copies no row.
func matchRows(d connectors.KeyedDecision, extra int) [][]string {
	rows := make([][]string, 0, len(d.Decision.Allocations)+len(d.Decision.Postings))
	letteredAt := d.DecidedAt.UTC().Format(time.RFC3339)
	row := func(itemID, document, customer string, amount, writeOff domain.Amount) []string {
		return append(make([]string, 0, len(ContractHeader)+extra),
			d.Tx.Ref,
			d.Tx.Account,
			formatDate(d.Tx.BookingDate),
			d.Tx.Amount.String(),
			d.Tx.Currency,
			d.Tx.Counterparty.Name,
			itemID,
			document,
			customer,
			amount.String(),
			writeOff.String(),
			d.Decision.Rule,
			strconv.FormatFloat(d.Decision.Confidence, 'f', 2, 64),
			d.Decision.Explanation,
			d.Key,
			letteredAt,
		)
	}
	for _, a := range d.Decision.Allocations {
		it := d.Items[a.ItemID]
		rows = append(rows, row(a.ItemID, it.DocumentNumber, it.CustomerID, a.Amount, a.WriteOff))
	}
	for _, p := range d.Decision.Postings {
		// a cash discount names the item it closes; cash does not
		rows = append(rows, row(p.ItemID, d.Items[p.ItemID].DocumentNumber, p.CustomerID, p.Amount, domain.Amount{}))
	}
	return rows
}

// fecFields is what the journal adds to the contract columns.
type fecFields struct {
	code            string // the decision's lettering code
	journal         string // journal_code
	accountPrefix   string // before the customer id
	writeOffAccount string // customer_account of write-off postings
}

// journalRows formats a decision as journal rows: MatchRows followed by
// the FECHeader, PostingHeader and FXHeader columns. Allocation rows carry the
// decision's lettering code and date; so do cash-discount rows, which close
// part of a lettered item (booked to the policy's discount account);
// cash posting rows carry neither (the cash they book stays open on the
// customer's account, or goes to the write-off account, which is not
// lettered), but their kind and reason. The customer account is empty
// when the item's customer is unknown.
func journalRows(d connectors.KeyedDecision, f fecFields) [][]string {
	rows := matchRows(d, len(JournalHeader)-len(ContractHeader))
	date := formatDate(d.DecidedAt.UTC())
	n := len(d.Decision.Allocations)
	for i, a := range d.Decision.Allocations {
		account := ""
		if c := d.Items[a.ItemID].CustomerID; c != "" {
			account = f.accountPrefix + c
		}
		itemAmount := ""
		if a.CrossCurrency() {
			itemAmount = a.ItemAmount.String()
		}
		rows[i] = append(rows[i], f.code, date, f.journal, account, "", "", itemAmount, a.ItemCurrency)
	}
	for i, p := range d.Decision.Postings {
		account, code, codeDate := f.writeOffAccount, "", ""
		switch p.Kind {
		case domain.OnAccount:
			account = f.accountPrefix + p.CustomerID
		case domain.CashDiscountPosting:
			account, code, codeDate = p.Account, f.code, date
		}
		rows[n+i] = append(rows[n+i], code, codeDate, f.journal, account, string(p.Kind), p.Reason, "", "")
	}
	return rows
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// ErrJournal is wrapped by errors about a journal file that cannot be used
// (a foreign header, a corrupt row in the middle).
var ErrJournal = errors.New("unusable journal")

// journalState is what the ledger caches from its journal.
type journalState struct {
	keys map[string]bool
	used map[string]domain.Amount // item id → allocated + written off
	// uses holds, per item id, each journal row that settles part of it,
	// with its lettered_at: the re-export rule (reexport.go) subtracts
	// only the rows an export does not reflect.
	uses map[string][]use
	// lastAt is the latest lettered_at in the journal.
	lastAt time.Time
	info   os.FileInfo       // the file as last seen, to notice rotation
	size   int64             // its size after our last write
	width  int               // fields per row: JournalHeader, or the older postingJournalHeader, fecJournalHeader, ContractHeader
	last   string            // the highest lettering code in the journal, "" when none
	codes  map[string]string // decision key → its lettering code
	// postings holds, per decision key, the postings the journal holds.
	postings map[string][]postingRow
}

// isCashDiscount reports whether a journal row is a cash-discount posting.
func isCashDiscount(kind string) bool {
	return domain.PostingKind(kind) == domain.CashDiscountPosting
}

// postingRow is a posting read back from the journal, with the account it
// was booked to (the customer_account column).
type postingRow struct {
	domain.Posting
	account string
}

func newJournalState() *journalState { return newJournalStateFor(0) }

// newJournalStateFor is newJournalState with room for the decisions and
// items of rows journal rows (one per allocation or posting, most of them
// a decision of their own): read whole every pass the items are read, the
// journal of 100,000 letters spent a third of its reading growing maps.
func newJournalStateFor(rows int) *journalState {
	return &journalState{keys: make(map[string]bool, rows), used: make(map[string]domain.Amount, rows),
		uses: make(map[string][]use, rows), width: len(JournalHeader),
		codes: make(map[string]string, rows), postings: map[string][]postingRow{}}
}

// reserve makes room in the maps for the rows of n more decisions when
// they would more than double (a first write-back into a new journal):
// grown one batch at a time, the maps of a first pass of 1,000,000
// payments were rehashed and split all along (a rebuild here copies no
// more than one doubling would).
func (s *journalState) reserve(n int) {
	if n <= len(s.keys) {
		return
	}
	s.keys, s.codes = grown(s.keys, n), grown(s.codes, n)
	s.used, s.uses = grown(s.used, n), grown(s.uses, n)
}

// grown is a copy of m with room for n more entries.
func grown[K comparable, V any](m map[K]V, n int) map[K]V {
	g := make(map[K]V, len(m)+n)
	for k, v := range m {
		g[k] = v
	}
	return g
}

// legacy reports a journal with the contract columns only.
func (s *journalState) legacy() bool { return s.width == len(ContractHeader) }

// canPost reports a journal with the posting columns.
func (s *journalState) canPost() bool { return s.width >= len(postingJournalHeader) }

// canFX reports a journal with the FX columns (cross-currency allocations).
func (s *journalState) canFX() bool { return s.width >= len(JournalHeader) }

// nextCode returns the lettering code for the next decision: the one after
// the highest in the journal, and at least start.
func (s *journalState) nextCode(start string) string {
	if s.last == "" || codeLess(s.last, start) {
		return start
	}
	return nextCode(s.last)
}

// add records one row read back from (or just appended to) the journal.
func (s *journalState) add(row []string) error {
	kind := ""
	if len(row) > jKind {
		kind = row[jKind]
		switch domain.PostingKind(kind) {
		case "", domain.OnAccount, domain.WriteOffPosting, domain.CashDiscountPosting:
		default:
			return fmt.Errorf("column %q: %q is not a posting kind (want %s, %s or %s)", JournalHeader[jKind], kind,
				domain.OnAccount, domain.WriteOffPosting, domain.CashDiscountPosting)
		}
		switch {
		case isCashDiscount(kind) && row[jOpenItemID] == "":
			return fmt.Errorf("column %q: a %s posting names no open item", JournalHeader[jOpenItemID], kind)
		case kind != "" && !isCashDiscount(kind) && row[jOpenItemID] != "":
			return fmt.Errorf("column %q: a %s posting names open item %q", JournalHeader[jOpenItemID], kind, row[jOpenItemID])
		}
	}
	if len(row) > jCode && (kind == "" || isCashDiscount(kind)) {
		code := row[jCode]
		if !isCode(code) {
			return fmt.Errorf("column %q: %q is not a lettering code", JournalHeader[jCode], code)
		}
		if s.last == "" || codeLess(s.last, code) {
			s.last = code
		}
		s.codes[row[jKey]] = code
	}
	alloc, err := domain.ParseAmount(row[jAllocated])
	if err != nil {
		return fmt.Errorf("column %q: %w", JournalHeader[jAllocated], err)
	}
	wo := domain.Amount{}
	if row[jWriteOff] != "" {
		if wo, err = domain.ParseAmount(row[jWriteOff]); err != nil {
			return fmt.Errorf("column %q: %w", JournalHeader[jWriteOff], err)
		}
	}
	s.keys[row[jKey]] = true
	if kind != "" {
		p := domain.Posting{Kind: domain.PostingKind(kind), CustomerID: row[jCustomerID], Amount: alloc, Reason: row[jReason]}
		if isCashDiscount(kind) {
			// the discount closes its item: it counts as settled there
			p.ItemID, p.Account = row[jOpenItemID], row[jAccount]
			s.settle(p.ItemID, alloc, row[jLetteredAt])
		}
		s.postings[row[jKey]] = append(s.postings[row[jKey]], postingRow{account: row[jAccount], Posting: p})
		return nil
	}
	if len(row) > jItemCcy && row[jItemCcy] != "" {
		// a cross-currency allocation settles item_amount in the item's currency
		settled, err := domain.ParseAmount(row[jItemAmount])
		if err != nil {
			return fmt.Errorf("column %q: %w", JournalHeader[jItemAmount], err)
		}
		s.settle(row[jOpenItemID], settled, row[jLetteredAt])
		return nil
	}
	s.settle(row[jOpenItemID], alloc.Add(wo), row[jLetteredAt])
	return nil
}

// settle records that a journal row lettered at (RFC 3339 text) settles
// amount of item.
func (s *journalState) settle(item string, amount domain.Amount, at string) {
	s.used[item] = s.used[item].Add(amount)
	u := use{amount: amount}
	if t, err := time.Parse(time.RFC3339, at); err == nil {
		u.at = t
		if t.After(s.lastAt) {
			s.lastAt = t
		}
	}
	s.uses[item] = append(s.uses[item], u)
}

// loadJournal opens (creating it with its header, and its folders, when
// missing) the journal at path, repairs it after a crash and reads it back.
//
// Repair happens in two steps. First, a pending marker left by an
// interrupted Apply cuts the whole interrupted batch off (see
// pendingSuffix). Second, for a journal without marker (say, a file
// copied mid-write), a torn tail — the file does not end with a newline,
// or ends inside a quoted field — is truncated back to the end of its last
// complete record; when the torn fragment shows its decision key, the
// complete rows of that same decision just before it go too.
func loadJournal(path string) (*journalState, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := createJournal(path); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(path, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("opening journal %q: %w", path, err)
	}
	defer f.Close()
	if err := rollBackPending(f, path); err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading journal %q: %w", path, err)
	}
	if info.Size() == 0 {
		if err := writeHeader(f); err != nil {
			return nil, fmt.Errorf("writing the header of journal %q: %w", path, err)
		}
	}
	st, cut, err := readJournal(f, path)
	if err != nil {
		return nil, err
	}
	if cut >= 0 {
		if err := f.Truncate(cut); err != nil {
			return nil, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
	}
	if st.info, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("reading journal %q: %w", path, err)
	}
	st.size = st.info.Size()
	return st, nil
}

func createJournal(path string) error {
	dir := dirOf(path)
	if err := os.MkdirAll(dir, durable.DirMode); err != nil {
		return fmt.Errorf("creating journal folder %q: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, durable.FileMode)
	if errors.Is(err, os.ErrExist) {
		return nil // created meanwhile; loadJournal reads it
	}
	if err != nil {
		return fmt.Errorf("creating journal %q: %w", path, err)
	}
	err = writeHeader(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("creating journal %q: %w", path, err)
	}
	return durable.SyncDir(dir)
}

func writeHeader(f *os.File) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(JournalHeader)
	w.Flush()
	if _, err := f.WriteAt(buf.Bytes(), 0); err != nil {
		return err
	}
	return f.Sync()
}

// readJournal parses the journal from the start. cut is the length to
// truncate the file to when its tail is torn, else -1.
func readJournal(f *os.File, path string) (*journalState, int64, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
	}
	size := info.Size()
	torn := false
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
		}
		torn = last[0] != '\n'
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, -1, fmt.Errorf("reading journal %q: %w", path, err)
	}
	cr := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	rows := journalReading{path: path, size: size, width: len(JournalHeader)}
	var headerEnd int64
	headerSeen := false
	var tornAt int64 = -1 // start of the torn fragment
	var fragment []string
	for {
		start := cr.InputOffset()
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		end := cr.InputOffset()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && (torn || openQuoteToEOF(f, start, size)) {
				tornAt = start
				fragment = leniently(f, start)
				break
			}
			return nil, -1, fmt.Errorf("reading journal %q: %w: %w", path, ErrJournal, err)
		}
		if torn && end == size {
			tornAt, fragment = start, rec
			break
		}
		if !headerSeen {
			if rows.width = journalWidth(rec); rows.width == 0 {
				return nil, -1, fmt.Errorf("reading journal %q: %w: header is not the matches.csv header", path, ErrJournal)
			}
			headerSeen, headerEnd = true, end
			rows.headerEnd = end
			continue
		}
		if len(rec) != rows.width {
			line, _ := cr.FieldPos(0)
			return nil, -1, fmt.Errorf("reading journal %q: line %d: %w: want %d fields, got %d",
				path, line, ErrJournal, rows.width, len(rec))
		}
		if err := rows.push(unescapeRow(rec), start); err != nil {
			return nil, -1, err
		}
	}
	cut := int64(-1)
	if tornAt >= 0 {
		if !headerSeen {
			// The header itself is torn: nothing else can be in the file.
			cut = 0
		} else {
			cut = tornAt
			if len(fragment) > jKey {
				if at := rows.takeBack(fragment[jKey]); at >= 0 {
					cut = at
				}
			}
			if cut < headerEnd {
				cut = headerEnd
			}
		}
	}
	st, err := rows.finish()
	if err != nil {
		return nil, -1, err
	}
	if cut == 0 {
		// Rewrite the header over the torn one.
		if err := f.Truncate(0); err != nil {
			return nil, -1, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
		if err := writeHeader(f); err != nil {
			return nil, -1, fmt.Errorf("repairing torn journal %q: %w", path, err)
		}
		cut = -1
	}
	return st, cut, nil
}

// journalSizeRows is the number of rows after which readJournal sizes the
// state for the whole file.
const journalSizeRows = 512

// journalWidth is the number of fields of the rows under the journal
// header header, or 0 when it is not a header of matches.csv.
func journalWidth(header []string) int {
	switch {
	case equalStrings(header, JournalHeader):
		return len(JournalHeader)
	case equalStrings(header, postingJournalHeader):
		return len(postingJournalHeader) // written before the FX columns
	case equalStrings(header, fecJournalHeader):
		return len(fecJournalHeader) // written before the posting columns
	case equalStrings(header, ContractHeader):
		return len(ContractHeader) // written before the FEC columns
	}
	return 0
}

// journalReading adds the journal's rows to its state as readJournal reads
// them, but for the held ones: a torn tail takes back the complete rows
// of its decision just before it, so the rows of the last decision key
// read wait until another key comes; and the first rows wait until they
// tell the bytes per row, which size the state's maps (journalSizeRows).
// Read whole every pass that reads the items, the journal of 1,000,000
// letters was kept as a million records (a string and a slice of fields
// each) until the last was read, and each line stayed live as long as the
// state through the keys and items it holds (issue 18).
type journalReading struct {
	path      string
	size      int64 // the file's
	headerEnd int64
	width     int // fields per row
	st        *journalState
	held      []string // the fields of the held rows, width each
	heldAt    []int64  // where each held row starts
	own       rowOwner
}

// heldKey is the decision key of held row i.
func (r *journalReading) heldKey(i int) string { return r.held[i*r.width+jKey] }

// push takes the row rec (its fields read into memory the reader reuses)
// starting at byte start.
func (r *journalReading) push(rec []string, start int64) error {
	if n := len(r.heldAt); n > 0 && r.heldKey(n-1) != rec[jKey] {
		if r.st == nil && n >= journalSizeRows {
			// 5 % more rows than the first ones tell: the maps are not
			// grown by the last few.
			r.st = newJournalStateFor(int(float64(r.size) / float64(start-r.headerEnd) * float64(n) * 1.05))
		}
		if r.st != nil {
			if err := r.addHeld(n); err != nil {
				return err
			}
		}
	}
	r.held, r.heldAt = append(r.held, rec...), append(r.heldAt, start)
	return nil
}

// addHeld adds the first n held rows to the state.
func (r *journalReading) addHeld(n int) error {
	r.st.width = r.width
	for i := range n {
		if err := r.st.add(r.own.own(r.held[i*r.width : (i+1)*r.width])); err != nil {
			return fmt.Errorf("reading journal %q: row at byte %d: %w: %w", r.path, r.heldAt[i], ErrJournal, err)
		}
	}
	r.held, r.heldAt = append(r.held[:0], r.held[n*r.width:]...), append(r.heldAt[:0], r.heldAt[n:]...)
	return nil
}

// takeBack drops the last rows read when they are of the decision key (a
// torn fragment's), and returns where the first of them started (-1 when
// none is).
func (r *journalReading) takeBack(key string) int64 {
	at := int64(-1)
	for n := len(r.heldAt); n > 0 && r.heldKey(n-1) == key; n-- {
		at = r.heldAt[n-1]
		r.held, r.heldAt = r.held[:(n-1)*r.width], r.heldAt[:n-1]
	}
	return at
}

// finish adds the rows still held and returns the state.
func (r *journalReading) finish() (*journalState, error) {
	if r.st == nil {
		r.st = newJournalStateFor(len(r.heldAt))
	}
	if err := r.addHeld(len(r.heldAt)); err != nil {
		return nil, err
	}
	return r.st, nil
}

// rowOwner gives the texts a journal state keeps of a row (the decision
// key and lettering code, the item, and a posting's customer, account and
// reason) memory of their own, so that the line they were read from is
// not kept with them; a decision's rows, which follow each other, share
// one copy of its key.
type rowOwner struct{ key string }

// own copies row's kept texts out of its line, in place.
func (o *rowOwner) own(row []string) []string {
	if k := row[jKey]; k != o.key {
		o.key = strings.Clone(k)
	}
	row[jKey] = o.key
	for _, c := range [...]int{jOpenItemID, jCustomerID, jCode, jAccount, jReason} {
		if c < len(row) {
			row[c] = strings.Clone(row[c])
		}
	}
	return row
}

// maxTornBytes bounds the tail examined by openQuoteToEOF: one batch.
const maxTornBytes = 64 << 20

// openQuoteToEOF reports whether the bytes from off to the end of the file
// leave a quoted field open: an append torn right after a newline inside a
// quoted value (an odd number of '"', since the writer doubles them).
func openQuoteToEOF(f *os.File, off, size int64) bool {
	if size-off > maxTornBytes {
		return false
	}
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return false
	}
	return bytes.Count(buf, []byte{'"'})%2 == 1
}

// leniently parses the torn fragment starting at off as far as it goes, to
// learn which decision it belonged to.
func leniently(f *os.File, off int64) []string {
	cr := csv.NewReader(io.NewSectionReader(f, off, 1<<20))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	rec, _ := cr.Read()
	return unescapeRow(rec)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.TrimPrefix(a[i], "\ufeff") != b[i] {
			return false
		}
	}
	return true
}

// pendingSuffix names the marker file that makes an append all-or-nothing:
// it records the journal's size before a batch is appended and is removed
// once the batch is durable. A marker found when the journal is opened
// means the append may be incomplete: the journal is cut back to that
// size, so a decision is never left in it with only some of its rows.
const pendingSuffix = ".pending"

// journalDecision is a decision to write to the journal with its
// lettering code.
type journalDecision struct {
	d    *connectors.KeyedDecision
	code string
}

// formatJournal returns the journal rows of the decisions (with the fields
// of f and each its own code; each row cut to
// width cells) and their CSV text (csvsafe.AppendRow: what encoding/csv
// writes for csvsafe.Row), in order, in one or two pieces. A large batch
// is formatted in two halves at once: the write-back waits for it, so a
// second core shortens the wait.
func formatJournal(ds []journalDecision, f fecFields, width int) ([][]string, [][]byte) {
	if len(ds) < minParallelFormat || runtime.GOMAXPROCS(0) < 2 {
		rows, size := journalRowsOf(ds, f, width)
		return rows, [][]byte{appendJournalText(make([]byte, 0, size+size/16), rows)}
	}
	half := len(ds) / 2
	var rows2 [][]string
	var buf2 []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		var size int
		rows2, size = journalRowsOf(ds[half:], f, width)
		buf2 = appendJournalText(make([]byte, 0, size+size/16), rows2)
	}()
	rows, size := journalRowsOf(ds[:half], f, width)
	buf := appendJournalText(make([]byte, 0, size+size/16), rows)
	<-done
	return append(rows, rows2...), [][]byte{buf, buf2}
}

// journalRowsOf returns the journal rows of ds (f with each one's code),
// each cut to width cells, and the size of their cells with a separator
// each.
func journalRowsOf(ds []journalDecision, f fecFields, width int) ([][]string, int) {
	rows := make([][]string, 0, len(ds))
	size := 0
	for _, jd := range ds {
		f.code = jd.code
		for _, r := range journalRows(*jd.d, f) {
			r = r[:width]
			rows = append(rows, r)
			for _, c := range r {
				size += len(c) + 1 // the comma or the newline after it
			}
		}
	}
	return rows, size
}

// appendJournalText appends the CSV text of rows to buf. Sized by the
// caller once: doubling a batch's buffer (tens of MB) touches twice the
// memory, and fresh memory is what costs on a virtual machine; quoted or
// neutralised cells take a little more than their size, so a sixteenth
// more leaves append to double once at most.
func appendJournalText(buf []byte, rows [][]string) []byte {
	for _, r := range rows {
		buf = csvsafe.AppendRow(buf, r, journalNotText)
	}
	return buf
}

// minParallelFormat is the number of decisions from which formatJournal
// uses two goroutines.
const minParallelFormat = 2048

// appendRows appends text (formatted rows, in pieces) to the journal and
// fsyncs it, bracketed by the pending marker. It returns the bytes
// written.
func appendRows(path string, text ...[]byte) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return 0, fmt.Errorf("opening journal %q: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("opening journal %q: %w", path, err)
	}
	marker := path + pendingSuffix
	if err := durable.WriteFile(marker, []byte(strconv.FormatInt(info.Size(), 10)+"\n"), durable.FileMode); err != nil {
		return 0, fmt.Errorf("writing journal marker %q: %w", marker, err)
	}
	if err := durable.SyncDir(dirOf(path)); err != nil {
		return 0, err
	}
	var n int
	for _, b := range text {
		var k int
		k, err = f.Write(b)
		n += k
		if err != nil {
			break
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// The marker stays: the next load cuts the partial batch off.
		return int64(n), fmt.Errorf("appending to journal %q: %w", path, err)
	}
	if err := os.Remove(marker); err != nil {
		return int64(n), fmt.Errorf("removing journal marker %q: %w", marker, err)
	}
	if err := durable.SyncDir(dirOf(path)); err != nil {
		return int64(n), err
	}
	return int64(n), nil
}

// rollBackPending cuts the journal back to the size its pending marker
// records, if there is a marker, and removes the marker.
func rollBackPending(f *os.File, path string) error {
	marker := path + pendingSuffix
	data, err := os.ReadFile(marker)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading journal marker %q: %w", marker, err)
	}
	// An unreadable marker was torn while being written, before the append
	// started: there is nothing to cut.
	if size, perr := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64); perr == nil {
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("rolling back journal %q: %w", path, err)
		}
		if size >= 0 && size < info.Size() {
			if err := f.Truncate(size); err != nil {
				return fmt.Errorf("rolling back journal %q: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				return fmt.Errorf("rolling back journal %q: %w", path, err)
			}
		}
	}
	if err := os.Remove(marker); err != nil {
		return fmt.Errorf("removing journal marker %q: %w", marker, err)
	}
	return durable.SyncDir(dirOf(path))
}
