package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lettrage/lettrage/domain"
)

// parseSize reads a size such as 300MB, 1.5GB, 512KB or 1000000 (bytes).
// Units are powers of 1024 (MB = MiB), as the benchmark tables use.
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if b := f * float64(mult); err != nil || !(b >= 1 && b <= 1<<50) {
		return 0, fmt.Errorf("parsing size %q: want a positive size such as 300MB: %w", s, errUsage)
	}
	return int64(f * float64(mult)), nil
}

// benchEntry builds entry i (from 1) of the size benchmark statement: a
// credit transfer of ~2.5 KB with every field banks commonly send; every
// tenth entry is a batch booking of 4 such payments.
func benchEntry(i int, booking time.Time) *entry {
	cents := int64(1000 + i%900000)
	n := 1
	if i%10 == 0 {
		n = 4
	}
	e := &entry{NtryRef: fmt.Sprintf("NR%09d", i), AcctSvcrRef: fmt.Sprintf("ASR%09d", i), Currency: "EUR", Credit: true,
		Booking: booking, Rich: true, Seq: i}
	for j := 1; j <= n; j++ {
		rf, _ := domain.MakeRF(fmt.Sprintf("%011d%d", i, j))
		tx := &domain.Transaction{
			Ref: fmt.Sprintf("TX%09d-%d", i, j), Amount: domain.AmountFromCents(cents), Currency: "EUR", Credit: true,
			BookingDate: booking, EndToEndID: fmt.Sprintf("E2E-%09d-%d", i, j),
			Counterparty: domain.Party{Name: fmt.Sprintf("Customer Number %d Handelsgesellschaft mbH", i),
				IBAN: fmt.Sprintf("DE0212030000%010d", i%1000000)},
			Unstructured: []string{fmt.Sprintf("Invoice INV-2024-%06d payment thank you", i%1000000)},
			Structured:   []domain.Reference{{Type: "SCOR", Issuer: "ISO", Value: rf}},
			Documents:    []string{fmt.Sprintf("INV-2024-%06d", i%1000000)},
		}
		e.Txs = append(e.Txs, tx)
		e.Amount = e.Amount.Add(tx.Amount)
	}
	return e
}

// benchEntryBytes measures the average size of the benchmark entries.
func benchEntryBytes() int64 {
	cw := &countWriter{}
	c := newCAMTWriter(cw)
	d := time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 1000; i++ {
		c.entry(benchEntry(i, d))
	}
	_ = c.w.Flush()
	return cw.n / 1000
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// writeBigCAMT writes one camt.053.001.08 statement of about size bytes to
// w, streaming, and returns the entries and transactions written.
func writeBigCAMT(w io.Writer, size int64) (entries, txs int, err error) {
	n := int(max(1, size/benchEntryBytes()))
	d := time.Date(2024, 5, 31, 0, 0, 0, 0, time.UTC)
	h := &stmtHeader{MsgID: "BENCH-MSG-1", ID: "BENCH-STMT-1", Seq: 1, Created: d.Add(22 * time.Hour), From: d, To: d,
		Account: "DE89370400440532013000", Owner: "Lettrage Bench SAS", Currency: "EUR",
		Opening: domain.AmountFromInt(1000), Entries: n, Credits: n}
	// The totals are declared before the entries: a first pass over the
	// amounts (cheap) computes them.
	var cents int64
	for i := 1; i <= n; i++ {
		c := int64(1000 + i%900000)
		if i%10 == 0 {
			c *= 4
		}
		cents += c
	}
	h.CreditSum = domain.AmountFromCents(cents)
	c := newCAMTWriter(w)
	c.begin(h)
	for i := 1; i <= n && c.err == nil; i++ {
		e := benchEntry(i, d)
		c.entry(e)
		txs += len(e.Txs)
	}
	if err := c.end(); err != nil {
		return n, txs, err
	}
	return n, txs, nil
}

func writeBigCAMTFile(path string, size int64) (entries, txs int, err error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, fmt.Errorf("creating %q: %w", path, err)
	}
	entries, txs, err = writeBigCAMT(f, size)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing %q: %w", path, cerr)
	}
	return entries, txs, err
}
