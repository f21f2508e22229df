package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/config.md")

const oneClass = `
sources:
  d: {kind: danbooru, url: "http://127.0.0.1:1"}
classes:
  - name: Nakano Miku
    queries: {d: nakano_miku}
`

func TestErrorsNameKeyAndLineNeverGoTypes(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"train:\n  epocs: 3\n" + oneClass, "chara.yaml:2: train.epocs: unknown key; did you mean train.epochs?"},
		{"train:\n  epochs: many\n" + oneClass, `chara.yaml:2: train.epochs: want a whole number, got "many"`},
		{"train:\n  epochs: 0\n" + oneClass, "chara.yaml:2: train.epochs: must be positive"},
		{"train:\n  amp: perhaps\n" + oneClass, `chara.yaml:2: train.amp: want true or false, got "perhaps"`},
		{"trian:\n  epochs: 3\n" + oneClass, "chara.yaml:1: trian: unknown key; did you mean train?"},
		{"images: 300\n" + oneClass, `chara.yaml:1: images: want a mapping of keys`},
		{"scrape:\n  ratings: g\n" + oneClass, `chara.yaml:2: scrape.ratings: want a list`},
		{"sources:\n  d: {kind: danbooru, url: \"http://x\", delay: soon}\n", `chara.yaml:2: sources.d.delay: want a duration such as 1.5s`},
		{"sources:\n  d: {kind: danbooru, url: \"http://x\", dealy: 1s}\n", `chara.yaml:2: sources.d.dealy: unknown key; did you mean sources.d.delay?`},
		{oneClass + "  - name: Nakano Miku\n", `chara.yaml:7: classes[1].name: duplicate class`},
		{"xyzzy: 1\n", "chara.yaml:1: xyzzy: unknown key (the top level takes classes, curate, images"},
		{"train: {models: [efnet-b0]}\n" + oneClass, `chara.yaml:1: train.models: entry 0: unknown model "efnet-b0" (effnet-b0, cnn or cnn2); did you mean effnet-b0?`},
		{"split: {train: 0.5, val: 0.2, test: 0.2}\n" + oneClass, "chara.yaml:1: split.train: train+val+test must be 1, got 0.9"},
		{"", "classes: no classes"},
		{"# only comments\n", "classes: no classes"},
		{"train: [\n", "chara.yaml: "},
	} {
		_, err := Parse("chara.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
			continue
		}
		for _, gotype := range []string{"config.", "int64", "time.Duration", "!!str", "unmarshal"} {
			if strings.Contains(err.Error(), gotype) {
				t.Errorf("%q: %v shows Go internals (%s)", c.yaml, err, gotype)
			}
		}
	}
	var ke *KeyError
	if _, err := Parse("chara.yaml", []byte("train:\n  epocs: 3\n"+oneClass)); !errors.As(err, &ke) || ke.Line != 2 {
		t.Errorf("want a *KeyError at line 2, got %v", err)
	}
	if c, err := Parse("chara.yaml", []byte(oneClass)); err != nil || c.Train.Epochs != 50 {
		t.Errorf("a minimal file: %v (epochs %v, want the default 50)", err, c)
	}
}

func TestTemplateParses(t *testing.T) {
	c, err := Parse("template", []byte(Template))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Classes) != 5 {
		t.Errorf("template: %d classes, want 5", len(c.Classes))
	}
	for _, m := range []string{"effnet-b0", "cnn2", "cnn", "weights"} {
		if !strings.Contains(Template, m) {
			t.Errorf("template does not mention %s", m)
		}
	}
}

func TestEveryKeyDocumented(t *testing.T) {
	missing, stale := undocumented()
	if len(missing) > 0 {
		t.Errorf("keys without a keyDocs entry (internal/config/doc.go): %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("keyDocs entries that name no key: %v", stale)
	}
	md := Markdown()
	for _, want := range []string{"| `train.epochs` | a whole number | `50` |", "| `images.fit` | text | `pad` |", "`sources.*.delay`", "| `scrape.ratings` | a list | `[g, s]` |"} {
		if !strings.Contains(md, want) {
			t.Errorf("docs lack %q", want)
		}
	}
}

func TestConfigDocIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "config.md")
	want := Markdown()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("docs/config.md is stale: run go generate ./internal/config")
	}
}

func TestEffectiveYAMLShowsEveryKeyAndParses(t *testing.T) {
	c, err := Parse("chara.yaml", []byte(oneClass))
	if err != nil {
		t.Fatal(err)
	}
	b, err := EffectiveYAML(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"  redis: \"\"", "  ignore_robots: false", "    delay: 0s", "  ratings: [g, s]", "  epochs: 50", "seed: 42"} {
		if !strings.Contains(string(b), want+"\n") {
			t.Errorf("effective config lacks %q:\n%s", want, b)
		}
	}
	back, err := Parse("effective", b)
	if err != nil {
		t.Fatalf("the effective config does not parse: %v\n%s", err, b)
	}
	if back.Train.Epochs != 50 || back.Images.Fit != "pad" || back.Classes[0].Name != "Nakano Miku" {
		t.Errorf("round trip: %+v", back)
	}
}
