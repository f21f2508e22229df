package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Class names are compared and slugged in NFC: two spellings of "Amélie"
// are one class; a name with a control character is refused, naming it.
func TestClassNamesNFCAndNoControlCharacters(t *testing.T) {
	src := "sources:\n  d: {kind: danbooru, url: \"http://127.0.0.1:1\"}\nclasses:\n"
	composed, decomposed := "Am\u00e9lie", "Ame\u0301lie"
	c, err := Parse("chara.yaml", []byte(src+"  - name: "+decomposed+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Classes[0].Name != composed {
		t.Errorf("name %q, want the NFC %q", c.Classes[0].Name, composed)
	}
	if _, ok := c.ClassByName(decomposed); !ok {
		t.Error("ClassByName misses the other spelling")
	}
	_, err = Parse("chara.yaml", []byte(src+"  - name: "+composed+"\n  - name: "+decomposed+"\n"))
	if err == nil || !strings.Contains(err.Error(), "duplicate class") {
		t.Errorf("two spellings of one name: %v, want a duplicate", err)
	}
	_, err = Parse("chara.yaml", []byte(src+"  - name: \"Miku\\nNino\"\n"))
	if err == nil || !strings.Contains(err.Error(), "classes[0].name") || !strings.Contains(err.Error(), "U+000A") {
		t.Errorf("a newline in a name: %v", err)
	}
	path := filepath.Join(t.TempDir(), "chara.yaml")
	if err := os.WriteFile(path, []byte(src+"  - name: "+composed+"\n  - name: Nino\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AddClass(path, Class{Name: decomposed}); !errors.Is(err, ErrClassExists) {
		t.Errorf("adding the other spelling: %v, want ErrClassExists", err)
	}
	if err := AddClass(path, Class{Name: "Bell\a"}); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("adding a name with BEL: %v", err)
	}
	if err := RemoveClass(path, decomposed); err != nil {
		t.Errorf("removing by the other spelling: %v", err)
	}
	if c, err := Load(path); err != nil || len(c.Classes) != 1 || c.Classes[0].Name != "Nino" {
		t.Errorf("after the removal: %+v %v", c, err)
	}
}
