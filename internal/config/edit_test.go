package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const commented = `# top comment: keep me
sources:
  danbooru: # the main board
    kind: danbooru
    url: https://danbooru.donmai.us
  safebooru:
    kind: gelbooru
    url: https://safebooru.org

# images comment
images:
  per_class: 20 # small

seed: 7

# the characters
classes:
  - name: Nakano Miku # the third
    queries:
      danbooru: nakano_miku solo
  - name: Nakano Nino
    queries:
      safebooru: nakano_nino solo
# foot comment
`

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chara.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAddClassKeepsCommentsAndOrder(t *testing.T) {
	p := writeTemp(t, commented)
	err := AddClass(p, Class{Name: "Nakano Ichika", Queries: map[string]string{"safebooru": "nakano_ichika solo", "danbooru": "nakano_ichika solo"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	out := string(b)
	for _, blank := range []string{"\n\n# images comment", "\n\nseed: 7", "\n\n# the characters"} {
		if !strings.Contains(out, blank) {
			t.Errorf("blank line before %q lost:\n%s", blank[2:], out)
		}
	}
	for _, c := range []string{"# top comment: keep me", "# the main board", "# images comment", "# small", "# the characters", "# the third", "# foot comment"} {
		if !strings.Contains(out, c) {
			t.Errorf("comment %q lost:\n%s", c, out)
		}
	}
	// Top-level keys keep their order.
	last := -1
	for _, k := range []string{"sources:", "images:", "seed:", "classes:"} {
		i := strings.Index(out, "\n"+k)
		if k == "sources:" {
			i = strings.Index(out, k)
		}
		if i <= last {
			t.Errorf("key %s moved:\n%s", k, out)
		}
		last = i
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("edited file does not load: %v\n%s", err, out)
	}
	if len(cfg.Classes) != 3 || cfg.Classes[0].Name != "Nakano Miku" || cfg.Classes[2].Name != "Nakano Ichika" {
		t.Fatalf("classes %+v", cfg.Classes)
	}
	if cfg.Classes[2].Queries["safebooru"] != "nakano_ichika solo" || cfg.Classes[2].Queries["danbooru"] != "nakano_ichika solo" {
		t.Errorf("queries %+v", cfg.Classes[2].Queries)
	}
	if cfg.Images.PerClass != 20 || cfg.Seed != 7 {
		t.Errorf("other settings changed: %+v seed %d", cfg.Images, cfg.Seed)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("permissions changed to %v", st.Mode().Perm())
	}
}

func TestAddClassRefusals(t *testing.T) {
	p := writeTemp(t, commented)
	if err := AddClass(p, Class{Name: "Nakano Miku"}); !errors.Is(err, ErrClassExists) {
		t.Errorf("duplicate: %v", err)
	}
	if err := AddClass(p, Class{Name: "nakano-miku"}); err == nil {
		t.Error("a name with the same slug was accepted")
	}
	if err := AddClass(p, Class{Name: "X", Queries: map[string]string{"gelbooru": "x"}}); err == nil || !strings.Contains(err.Error(), "gelbooru") {
		t.Errorf("unknown source: %v", err)
	}
	if err := AddClass(p, Class{Name: "../.."}); err == nil {
		t.Error("a name without letters was accepted")
	}
	b, _ := os.ReadFile(p)
	if string(b) != commented {
		t.Error("a refused edit changed the file")
	}
	if err := AddClass(filepath.Join(t.TempDir(), "none.yaml"), Class{Name: "A"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

func TestAddClassToFileWithoutClasses(t *testing.T) {
	for _, content := range []string{"", "seed: 3\n", "seed: 3\nclasses: []\n"} {
		p := writeTemp(t, content)
		if err := AddClass(p, Class{Name: "A"}); err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		if err := AddClass(p, Class{Name: "B"}); err != nil {
			t.Fatalf("%q: %v", content, err)
		}
		cfg, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Classes) != 2 || cfg.Classes[1].Name != "B" {
			t.Errorf("%q: classes %+v", content, cfg.Classes)
		}
	}
}

func TestRemoveClass(t *testing.T) {
	p := writeTemp(t, commented)
	if err := RemoveClass(p, "Nakano Miku"); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Classes) != 1 || cfg.Classes[0].Name != "Nakano Nino" {
		t.Fatalf("classes %+v", cfg.Classes)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), "# top comment: keep me") || !strings.Contains(string(b), "# images comment") {
		t.Errorf("comments lost:\n%s", b)
	}
	if err := RemoveClass(p, "Nakano Miku"); !errors.Is(err, ErrClassNotFound) {
		t.Errorf("second removal: %v", err)
	}
}

func TestTemplateParsesAndNamesTheSisters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "chara.yaml")
	if err := WriteTemplate(p); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("template does not load: %v", err)
	}
	want := []string{"Nakano Ichika", "Nakano Nino", "Nakano Miku", "Nakano Yotsuba", "Nakano Itsuki"}
	if len(cfg.Classes) != len(want) {
		t.Fatalf("classes %+v", cfg.Classes)
	}
	for i, c := range cfg.Classes {
		if c.Name != want[i] {
			t.Errorf("class %d is %q, want %q", i, c.Name, want[i])
		}
		tag := strings.ToLower(strings.ReplaceAll(want[i], " ", "_"))
		for _, src := range []string{"danbooru", "safebooru", "yandere"} {
			if q := c.Queries[src]; q != tag+" solo" {
				t.Errorf("%s %s query %q", c.Name, src, q)
			}
		}
	}
	if s := cfg.Sources["safebooru"]; s.Kind != "gelbooru" || s.URL != "https://safebooru.org" {
		t.Errorf("safebooru %v", s)
	}
	if s := cfg.Sources["yandere"]; s.Kind != "moebooru" {
		t.Errorf("yandere %v", s)
	}
	if !strings.Contains(Template, "zerochan") {
		t.Error("no zerochan in the template")
	}
	if cfg.Images != defaultImages() || cfg.Split != defaultSplit() {
		t.Errorf("template images/split differ from the defaults: %+v %+v", cfg.Images, cfg.Split)
	}
	if err := WriteTemplate(p); !errors.Is(err, ErrExists) {
		t.Errorf("second write: %v", err)
	}
}

// TestEditTemplateKeepsEveryComment edits the file chara init writes: no
// comment line may be lost.
func TestEditTemplateKeepsEveryComment(t *testing.T) {
	p := filepath.Join(t.TempDir(), "chara.yaml")
	if err := WriteTemplate(p); err != nil {
		t.Fatal(err)
	}
	if err := AddClass(p, Class{Name: "Uesugi Fuutarou", Queries: map[string]string{"danbooru": "uesugi_fuutarou solo"}}); err != nil {
		t.Fatal(err)
	}
	if err := RemoveClass(p, "Nakano Nino"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	out := string(b)
	for _, l := range strings.Split(Template, "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, "#"); i >= 0 && !strings.Contains(l, "Nakano Nino") {
			if c := l[i:]; !strings.Contains(out, c) {
				t.Errorf("comment %q lost", c)
			}
		}
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Classes) != 5 || cfg.Classes[4].Name != "Uesugi Fuutarou" || cfg.Classes[1].Name != "Nakano Miku" {
		t.Errorf("classes %+v", cfg.Classes)
	}
}
