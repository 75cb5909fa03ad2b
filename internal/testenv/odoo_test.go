package testenv

import (
	"os"
	"testing"
	"time"
)

// TestOdoo starts the Odoo 17 test server, copies the template twice and
// logs in with the API key of the Lettrage user: the key works on every
// copy, and the copies are independent.
func TestOdoo(t *testing.T) {
	t0 := time.Now()
	o := StartOdoo(t)
	t.Logf("odoo %s started in %v", o.Version, time.Since(t0).Round(time.Millisecond))
	t1 := time.Now()
	a := o.Database(t)
	t.Logf("database %s ready in %v", a.Name, time.Since(t1).Round(time.Millisecond))
	b := o.Database(t)
	for _, db := range []*OdooDB{a, b} {
		uid, err := db.login(OdooUser, o.APIKey)
		if err != nil || uid != db.UserUID {
			t.Fatalf("%s: logging in with the API key: uid %d, %v (want %d)", db.Name, uid, err, db.UserUID)
		}
	}
	if err := a.Call(nil, "res.partner", "create", []any{map[string]any{"name": "Only in A"}}, nil); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Call(&n, "res.partner", "search_count", []any{[]any{[]any{"name", "=", "Only in A"}}}, nil); err != nil || n != 0 {
		t.Errorf("database %s sees %d partners of %s (%v)", b.Name, n, a.Name, err)
	}
	if _, err := os.Stat(o.Dir + "/data/filestore/" + a.Name); err != nil {
		t.Errorf("filestore not copied: %v", err)
	}
}
