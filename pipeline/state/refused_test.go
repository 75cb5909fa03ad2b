package state

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRefusedFilesStore runs the refused-files table on both state stores.
func TestRefusedFilesStore(t *testing.T) { forEachStore(t, testRefusedFilesStore) }

func testRefusedFilesStore(t *testing.T, open func() (*Store, error)) {
	s, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 18, 9, 0, 0, 0, time.UTC)
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	for _, f := range []RefusedFile{
		{Hash: h1, Source: "s", Path: "x.xml", Size: 10, ModTime: at, Reason: "truncated FR7630006000011234567890189", At: at},
		{Hash: h1, Source: "s", Path: "x.xml", Size: 10, ModTime: at.Add(time.Hour), Reason: "again", At: at}, // touched
		{Hash: h1, Source: "s", Path: "copy.xml", Size: 10, ModTime: at, Reason: "same bytes", At: at},
		{Hash: h2, Source: "s", Path: "y.xml", Size: 20, ModTime: at, Reason: "not CAMT", At: at},
	} {
		if err := s.Refuse(ctx, "j", f); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountHeld(ctx, "j"); err != nil || n != 3 {
		t.Fatalf("CountHeld = %d, %v; want 3 (x.xml once, copy.xml, y.xml)", n, err)
	}
	if ok, _ := s.HeldListing(ctx, "j", "s", "x.xml", 10, at.Add(time.Hour)); !ok {
		t.Error("the touched listing of x.xml is not held")
	}
	if ok, _ := s.HeldListing(ctx, "j", "s", "x.xml", 11, at.Add(time.Hour)); ok {
		t.Error("another size of x.xml is held")
	}
	if ok, _ := s.Held(ctx, "j", h2); !ok {
		t.Error("content h2 not held")
	}
	if ok, _ := s.Held(ctx, "other", h2); ok {
		t.Error("held for another job")
	}
	held, err := s.HeldFiles(ctx, "j")
	if err != nil || len(held) != 3 || strings.Contains(held[0].Reason+held[1].Reason, "FR7630006000011234567890189") {
		t.Fatalf("HeldFiles = %+v, %v; want 3, IBANs masked in reasons", held, err)
	}
	if n, err := s.ForgetOtherVersions(ctx, "j", "s", "x.xml", h1); err != nil || n != 0 {
		t.Errorf("ForgetOtherVersions with the same content = %d, %v; want 0", n, err)
	}
	if n, err := s.ForgetOtherVersions(ctx, "j", "s", "x.xml", h2); err != nil || n != 1 {
		t.Errorf("ForgetOtherVersions with new content = %d, %v; want 1", n, err)
	}
	if rel, err := s.Release(ctx, "j", "y.xml"); err != nil || len(rel) != 1 || rel[0].Hash != h2 {
		t.Errorf("Release(y.xml) = %+v, %v", rel, err)
	}
	if rel, err := s.Release(ctx, "j", ""); err != nil || len(rel) != 1 || rel[0].Path != "copy.xml" {
		t.Errorf("Release(all) = %+v, %v; want copy.xml", rel, err)
	}
	if n, _ := s.CountHeld(ctx, "j"); n != 0 {
		t.Errorf("CountHeld after releasing everything = %d", n)
	}
}
