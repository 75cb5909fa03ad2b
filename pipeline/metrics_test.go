package pipeline

import (
	"testing"
	"time"

	"github.com/lettrage/lettrage/domain"
	"github.com/lettrage/lettrage/pipeline/decide"
)

func TestExceptionAge(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		booked time.Time
		want   string
	}{
		{time.Time{}, "0-2"},
		{now, "0-2"},
		{now.AddDate(0, 0, -2), "0-2"},
		{now.AddDate(0, 0, -3), "3-7"},
		{now.AddDate(0, 0, -7), "3-7"},
		{now.AddDate(0, 0, -8), "8-30"},
		{now.AddDate(0, 0, -30), "8-30"},
		{now.AddDate(0, 0, -31), "over_30"},
	} {
		if got := ExceptionAge(tc.booked, now); got != tc.want {
			t.Errorf("ExceptionAge(%s) = %s, want %s", tc.booked.Format(time.DateOnly), got, tc.want)
		}
	}
}

func TestExceptionsByAgeGauge(t *testing.T) {
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	m := NewMetrics("test")
	exc := func(daysAgo int) decide.StoredTx {
		return decide.StoredTx{Tx: domain.Transaction{Currency: "EUR", Amount: domain.MustAmount("10"),
			BookingDate: now.AddDate(0, 0, -daysAgo)}}
	}
	m.unmatched("j", []decide.StoredTx{exc(1), exc(5), exc(6), exc(40)}, now)
	want := map[string]float64{"0-2": 1, "3-7": 2, "8-30": 0, "over_30": 1}
	if got := gaugeByLabel(t, m, "lettrage_exceptions_by_age", "age"); !equalCounts(got, want) {
		t.Errorf("exceptions by age %v, want %v", got, want)
	}
	// The next snapshot replaces the counts: nothing is left over.
	m.unmatched("j", nil, now)
	zero := map[string]float64{"0-2": 0, "3-7": 0, "8-30": 0, "over_30": 0}
	if got := gaugeByLabel(t, m, "lettrage_exceptions_by_age", "age"); !equalCounts(got, zero) {
		t.Errorf("after an empty snapshot %v, want %v", got, zero)
	}
}

// gaugeByLabel gathers the gauge name and returns its values by the value
// of label.
func gaugeByLabel(t *testing.T, m *Metrics, name, label string) map[string]float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = mt.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

func equalCounts(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestAgeingBucket(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		due  time.Time
		want string
	}{
		{time.Time{}, "not_due"},
		{now.AddDate(0, 0, 5), "not_due"},
		{now, "not_due"},
		{now.AddDate(0, 0, -1), "1-30"},
		{now.AddDate(0, 0, -30), "1-30"},
		{now.AddDate(0, 0, -31), "31-60"},
		{now.AddDate(0, 0, -61), "61-90"},
		{now.AddDate(0, 0, -91), "over_90"},
	} {
		if got := AgeingBucket(tc.due, now); got != tc.want {
			t.Errorf("AgeingBucket(%s) = %s, want %s", tc.due.Format("2006-01-02"), got, tc.want)
		}
	}
}
