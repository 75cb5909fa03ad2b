package failpoint

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		env   string
		point string
		want  bool
	}{
		{"", "a", false},
		{"a", "a", true},
		{"a", "b", false},
		{" a , b ", "b", true},
		{"a,,b", "", false},
	}
	for _, tc := range tests {
		if got := parse(tc.env)[tc.point]; got != tc.want {
			t.Errorf("parse(%q)[%q] = %v, want %v", tc.env, tc.point, got, tc.want)
		}
	}
}

func TestCrashIsInertWhenUnarmed(t *testing.T) {
	armed = nil
	Crash("tryton-after-create") // must return
	if Armed("tryton-after-create") {
		t.Fatal("armed without the variable")
	}
}

// TestInertWithoutTheTag: a production build (no failpoint tag) never
// arms a point, whatever the environment says.
func TestInertWithoutTheTag(t *testing.T) {
	if Enabled {
		t.Skip("built with -tags failpoint")
	}
	armed = map[string]bool{"x": true} // as if the variable named it
	if Armed("x") {
		t.Fatal("a failpoint is armed in a build without the tag")
	}
	Crash("x") // must return
}
