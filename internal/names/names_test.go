package names

import (
	"strings"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

func TestNFCAndControlCharacters(t *testing.T) {
	composed, decomposed := "Am\u00e9lie", "Ame\u0301lie"
	a, err := Class(composed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Class(" " + decomposed + " ")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || a != composed || !Same(composed, decomposed) {
		t.Errorf("%q and %q: canonical %q and %q", composed, decomposed, a, b)
	}
	sa, _ := manifests.Slug(a)
	sb, _ := manifests.Slug(b)
	if sa != sb {
		t.Errorf("slugs %q and %q", sa, sb)
	}
	for _, bad := range []string{"Miku\nNino", "Miku\x1b[31m", "a\u202eb", "x\u0085y", "del\x7f"} {
		if _, err := Class(bad); err == nil || !strings.Contains(err.Error(), "control character") {
			t.Errorf("%q: %v, want a control-character error", bad, err)
		}
	}
	if Same("Miku", "Nino") {
		t.Error("different names are the same")
	}
}
