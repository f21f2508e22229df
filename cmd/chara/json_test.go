//go:build !chara_notorch

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/json.md")

// jsonDocs is docs/json.md.
func jsonDocs() string {
	var b strings.Builder
	b.WriteString("# JSON output\n\n")
	b.WriteString("Generated from the Go types by `go test ./cmd/chara -run TestJSONDocsAreCurrent -update`; a test checks that it is current.\n")
	b.WriteString("Every command that reports results prints JSON on stdout with `--json` (one document, indented);\n")
	b.WriteString("progress goes to stderr, as JSON lines with `--log-format json`. Durations ending in `_ns` are nanoseconds.\n")
	for _, o := range jsonOutputs {
		fmt.Fprintf(&b, "\n## `%s`\n\n", o.Command)
		if o.Doc != "" {
			b.WriteString(o.Doc + "\n\n")
		}
		b.WriteString("| field | type | meaning |\n| --- | --- | --- |\n")
		t := reflect.TypeOf(o.Value)
		if t.Kind() == reflect.Slice {
			b.WriteString("| (list) | list of objects: | |\n")
			t = t.Elem()
		}
		writeFields(&b, t, "")
	}
	return b.String()
}

var timeType = reflect.TypeOf(time.Time{})

func writeFields(b *strings.Builder, t reflect.Type, prefix string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			writeFields(b, f.Type, prefix)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		meaning := f.Tag.Get("doc")
		if meaning == "" {
			meaning = fieldComment(t, f.Name)
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s |\n", prefix, name, jsonKind(ft), strings.ReplaceAll(meaning, "|", "\\|"))
		switch {
		case ft.Kind() == reflect.Struct && ft != timeType:
			writeFields(b, ft, prefix+name+".")
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			writeFields(b, ft.Elem(), prefix+name+"[].")
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			writeFields(b, ft.Elem(), prefix+name+".*.")
		}
	}
}

func jsonKind(t reflect.Type) string {
	switch {
	case t == timeType:
		return "string (RFC 3339 time)"
	case t.Kind() == reflect.Bool:
		return "boolean"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Array, t.Kind() == reflect.Slice:
		return "list of " + jsonKind(t.Elem()) + "s"
	case t.Kind() == reflect.Map:
		return "object of " + jsonKind(t.Elem()) + "s"
	case t.Kind() == reflect.Interface:
		return "any"
	}
	return "object"
}

// fieldComment is the source comment of field name of struct type t (its
// doc comment or line comment), read from the package's Go files.
func fieldComment(t reflect.Type, name string) string {
	fields := commentsOf(t.PkgPath())
	return fields[t.Name()+"."+name]
}

var (
	commentsMu    sync.Mutex
	commentsCache = map[string]map[string]string{}
)

// commentsOf parses a package of this module and maps "Type.Field" to the
// field's comment, on one line.
func commentsOf(pkgPath string) map[string]string {
	commentsMu.Lock()
	defer commentsMu.Unlock()
	if m, ok := commentsCache[pkgPath]; ok {
		return m
	}
	m := map[string]string{}
	commentsCache[pkgPath] = m
	const module = "github.com/chara-dev/chara"
	var dir string
	switch {
	case pkgPath == "main":
		dir = "."
	case strings.HasPrefix(pkgPath, module+"/"):
		dir = filepath.Join("..", "..", strings.TrimPrefix(pkgPath, module+"/"))
	default:
		return m
	}
	fset := token.NewFileSet()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return m
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			for _, fl := range st.Fields.List {
				text := ""
				if fl.Doc != nil {
					text = fl.Doc.Text()
				}
				if fl.Comment != nil {
					text = strings.TrimSpace(text + " " + fl.Comment.Text())
				}
				text = strings.Join(strings.Fields(text), " ")
				for _, id := range fl.Names {
					m[ts.Name.Name+"."+id.Name] = text
				}
			}
			return true
		})
	}
	return m
}

func TestJSONDocsAreCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "json.md")
	want := jsonDocs()
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("docs/json.md is stale: go test ./cmd/chara -run TestJSONDocsAreCurrent -update")
	}
}

// documented returns the top-level fields docs/json.md lists for a command.
func documented(t *testing.T, command string) map[string]bool {
	t.Helper()
	doc := jsonDocs()
	i := strings.Index(doc, "## `"+command+"`")
	if i < 0 {
		t.Fatalf("docs/json.md has no section for %s", command)
	}
	sec := doc[i+4:]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	out := map[string]bool{}
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| `") {
			name := strings.TrimPrefix(l, "| `")
			name = name[:strings.Index(name, "`")]
			if !strings.ContainsAny(name, ".[") {
				out[name] = true
			}
		}
	}
	return out
}

// TestJSONOutputs runs every command that reports results with --json on a
// tiny workspace and checks that stdout is one JSON document whose fields
// are the documented ones.
func TestJSONOutputs(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	startSite(t, ws)
	imgs := t.TempDir()
	check := func(command string, args ...string) any {
		t.Helper()
		code, out, errs := charaIn(context.Background(), ws, args...)
		if code != 0 {
			t.Fatalf("chara %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Fatalf("chara %s: stdout is not one JSON document (%v):\n%s", strings.Join(args, " "), err, out)
		}
		docs := documented(t, command)
		objs := []any{v}
		if l, ok := v.([]any); ok {
			if len(l) == 0 {
				t.Errorf("%s: an empty list", command)
			}
			objs = l
		}
		for _, o := range objs {
			m, ok := o.(map[string]any)
			if !ok {
				t.Fatalf("%s: not an object: %v", command, o)
			}
			for k := range m {
				if !docs[k] {
					t.Errorf("%s: field %q is not in docs/json.md", command, k)
				}
			}
		}
		return v
	}
	check("chara scrape --json", "scrape", "--json")
	check("chara curate --json", "curate", "--json")
	b := check("chara dataset build --json", "dataset", "build", "--json").(map[string]any)
	if cl, _ := b["classes"].([]any); len(cl) != 2 {
		t.Errorf("dataset build --json: classes %v", b["classes"])
	}
	if v := check("chara dataset verify --json", "dataset", "verify", "--json").(map[string]any); v["ok"] != true {
		t.Errorf("dataset verify --json: %v", v)
	}
	check("chara classes list --json", "classes", "list", "--json")
	card := check("chara train --json", "train", "--model", "cnn", "--epochs", "1", "--name", "r1", "--json").(map[string]any)
	if card["name"] != "r1" || card["model"] != "cnn" {
		t.Errorf("train --json: %v", card)
	}
	check("chara compare --json", "compare", "--json")
	sus := check("chara suspects --json", "suspects", "--folds", "2", "--epochs", "1", "--json").(map[string]any)
	if onDisk, err := manifests.ReadSuspects(manifests.SuspectsPath(ws)); err != nil || len(onDisk.Items) == 0 || len(onDisk.Items) != len(sus["items"].([]any)) {
		t.Errorf("suspects: %v on disk, %d printed (%v)", onDisk, len(sus["items"].([]any)), err)
	}

	// --log-format json (given after the command): an epoch event per epoch
	// with named fields, every stderr line one JSON object.
	code, _, errs := charaIn(context.Background(), ws, "train", "--model", "cnn", "--epochs", "2", "--name", "r2", "--log-format", "json")
	if code != 0 {
		t.Fatalf("train --log-format json: exit %d: %s", code, errs)
	}
	epochs := 0
	for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Errorf("stderr line is not JSON: %q", l)
			continue
		}
		if ev["event"] == "epoch" {
			epochs++
			for _, k := range []string{"epoch", "epochs", "loss", "acc", "val_loss", "val_acc", "lr", "seconds", "best", "time"} {
				if _, ok := ev[k]; !ok {
					t.Errorf("epoch event without %s: %v", k, ev)
				}
			}
		}
	}
	if epochs != 2 {
		t.Errorf("%d epoch events, want 2:\n%s", epochs, errs)
	}

	// evaluate: the test split scores as training did; a folder of the test
	// images, one sub-folder per class, scores the same.
	ev := check("chara evaluate RUN --json", "evaluate", "r1", "--split", "test", "--json").(map[string]any)
	if d := ev["accuracy"].(float64) - card["test_acc"].(float64); d > 1e-6 || d < -1e-6 {
		t.Errorf("evaluate --split test: accuracy %v, training's test accuracy %v", ev["accuracy"], card["test_acc"])
	}
	if d := ev["loss"].(float64) - card["test_loss"].(float64); d > 1e-3 || d < -1e-3 {
		t.Errorf("evaluate --split test: loss %v, training's test loss %v", ev["loss"], card["test_loss"])
	}
	for _, f := range []string{"report.md", "confusion.png", "confusion.csv", "per_class.csv", "top_losses.png"} {
		if st, err := os.Stat(filepath.Join(ev["dir"].(string), f)); err != nil || st.Size() == 0 {
			t.Errorf("evaluate report %s: %v", f, err)
		}
	}
	ds, err := manifests.ReadDataset(manifests.DatasetDir(ws, "default"))
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(t.TempDir(), "labelled")
	for _, r := range ds.Rows[manifests.Test] {
		data, err := os.ReadFile(filepath.Join(ds.Dir, filepath.FromSlash(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(folder, ds.Classes[r.Label].Name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, filepath.Base(r.Path)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	evd := check("chara evaluate RUN --json", "evaluate", "r1", folder, "--json").(map[string]any)
	if evd["accuracy"] != ev["accuracy"] || evd["n"] != ev["n"] || evd["on"] != "labelled" {
		t.Errorf("evaluate DIR: %v, the test split: %v", evd, ev)
	}
	if code, _, errs := charaIn(context.Background(), ws, "evaluate", "r1", "--split", "train"); code != 2 {
		t.Errorf("evaluate --split train: exit %d: %s", code, errs)
	}
	if err := os.MkdirAll(filepath.Join(folder, "Nobody"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := charaIn(context.Background(), ws, "evaluate", "r1", folder); code != 1 || !strings.Contains(errs, "Nobody") {
		t.Errorf("evaluate with an unknown class folder: exit %d: %s", code, errs)
	}
	test, err := filepath.Glob(filepath.Join(ws, "datasets", "default", "images", "*"))
	if err != nil || len(test) == 0 {
		t.Fatalf("no dataset images: %v", err)
	}
	p := check("chara predict IMAGE... --json", "predict", test[0], "--json", "--top", "2").([]any)
	if preds, _ := p[0].(map[string]any)["predictions"].([]any); len(preds) != 2 {
		t.Errorf("predict --json --top 2: %v", p)
	}
	check("chara doctor --json", "doctor", "--json")
	data, err := os.ReadFile(test[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgs, "a"+filepath.Ext(test[0])), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(ws, "chara.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	check("chara import DIR --class NAME --json", "import", imgs, "--class", cfg.Classes[0].Name, "--json")
}
