package pipeline

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLoggerMasksIBANs(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := NewLogger(&buf, "info", format).With("account", "FR7630006000011234567890189")
		log.Info("payment from DE89370400440532013000 quarantined",
			"err", errors.New(`reading "a.xml": Dbtr IBAN BE68539007547034 invalid`),
			"file", "stmt.xml")
		out := buf.String()
		for _, iban := range []string{"FR7630006000011234567890189", "DE89370400440532013000", "BE68539007547034"} {
			if strings.Contains(out, iban) {
				t.Errorf("%s log carries %s:\n%s", format, iban, out)
			}
		}
		for _, masked := range []string{"FR76…0189", "DE89…3000", "BE68…7034", "stmt.xml"} {
			if !strings.Contains(out, masked) {
				t.Errorf("%s log lacks %s:\n%s", format, masked, out)
			}
		}
	}
	var buf bytes.Buffer
	NewLogger(&buf, "warn", "text").Info("hidden")
	if buf.Len() != 0 {
		t.Errorf("level not honoured: %q", buf.String())
	}
}
