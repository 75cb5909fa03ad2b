package domain

import (
	"encoding/json"
	"testing"
	"unsafe"
)

// TestConversionJSON checks that a transaction's conversion, kept apart
// behind a pointer, reads and writes the JSON it did as the transaction's
// own fields (instructed, instructed_currency, exchange_rate, between
// additional and origin), and that a payment the banks did not convert
// carries none.
func TestConversionJSON(t *testing.T) {
	const converted = `{"key":"k","tx_ref":"r","account":"","amount":"10.00","currency":"EUR","credit":true,"status":"BOOK",` +
		`"booking_date":"0001-01-01T00:00:00Z","value_date":"0001-01-01T00:00:00Z","counterparty":{},` +
		`"additional":["x"],"instructed":"11.50","instructed_currency":"USD","exchange_rate":"0.87","origin":{"document":2}}`
	var tx Transaction
	if err := json.Unmarshal([]byte(converted), &tx); err != nil {
		t.Fatal(err)
	}
	if fx := tx.FX(); fx.Instructed.String() != "11.50" || fx.InstructedCurrency != "USD" || fx.ExchangeRate != "0.87" {
		t.Errorf("read %+v", fx)
	}
	if b, err := json.Marshal(tx); err != nil || string(b) != converted {
		t.Errorf("wrote %s (%v), want %s", b, err, converted)
	}

	plain := converted[:len(converted)-len(`"instructed":"11.50","instructed_currency":"USD","exchange_rate":"0.87","origin":{"document":2}}`)] +
		`"origin":{"document":2}}`
	tx = Transaction{}
	if err := json.Unmarshal([]byte(plain), &tx); err != nil {
		t.Fatal(err)
	}
	if tx.Conversion != nil || tx.FX().InstructedCurrency != "" {
		t.Errorf("a payment without conversion got %+v", tx.Conversion)
	}
	if b, err := json.Marshal(tx); err != nil || string(b) != plain {
		t.Errorf("wrote %s (%v), want %s", b, err, plain)
	}
	if got := unsafe.Sizeof(Transaction{}); got > 400 {
		t.Errorf("Transaction is %d bytes, want at most 400", got)
	}
}
