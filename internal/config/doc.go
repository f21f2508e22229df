package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

//go:generate go test -run TestConfigDocIsCurrent -update .

// keyDocs says what each key of chara.yaml does and which values it takes.
// Keys, kinds and defaults come from the Config struct and Default(); a
// test fails when a key has no entry here or docs/config.md is stale.
// "*" stands for a source's name, "[]" for a list entry.
var keyDocs = map[string]string{
	"sources":                   "The boards to search, by a name of your choice (used in classes[].queries and in `CHARA_<NAME>_*` variables).",
	"sources.*.kind":            "The site's software: danbooru, gelbooru, moebooru, zerochan or html. Required.",
	"sources.*.url":             "The site's base URL, http(s). Required.",
	"sources.*.login":           "Account name (or `CHARA_<NAME>_LOGIN`). Danbooru: with api_key, authenticates (a free account does not raise the 2-tag limit); moebooru: the user name for api_key or password_hash; zerochan: required, it is put in the User-Agent.",
	"sources.*.api_key":         "API key (or `CHARA_<NAME>_API_KEY`). Never printed.",
	"sources.*.user_id":         "Numeric user id (or `CHARA_<NAME>_USER_ID`): gelbooru's api_key needs it (default: login); danbooru puts it in the User-Agent, as its staff ask.",
	"sources.*.delay":           "Time between listing requests, e.g. 1s; 0: the site's own default pace.",
	"sources.*.random_delay":    "Extra random wait up to this long on top of delay.",
	"sources.*.parallelism":     "Files downloaded at once from this source; 0: the default.",
	"sources.*.file_delay":      "Time between file downloads per host; 0: none beyond the site's default.",
	"sources.*.limit":           "Posts per listing page; 0: the site's maximum.",
	"sources.*.pace":            "Spaces every request to the site, listing pages and files together, e.g. 1s; 0: the site's own default.",
	"sources.*.tag_limit":       "danbooru: counted tags per search the account allows, checked before any request (rating:, status:, score: and the other free metatags do not count); 0: 2, as for Anonymous and Member; 6 for Gold; -1: no check.",
	"sources.*.password_hash":   "moebooru: the hashed password, instead of an API key. Never printed.",
	"sources.*.strict":          "zerochan: strict mode (the tag must be the picture's primary one).",
	"sources.*.sort":            "zerochan: listing order, id (newest first, the site's default) or fav (most favourited first).",
	"sources.*.dimension":       "zerochan: only pictures of this size or shape: large, huge, landscape, portrait or square.",
	"sources.*.verify_md5":      "Check each file against the md5 the site lists. Default true.",
	"sources.*.user_agent":      "Replaces scrape.user_agent for this source.",
	"sources.*.cookies":         "A Netscape cookies.txt sent with this source's requests (a browser's, to pass a Cloudflare check, with that browser's User-Agent).",
	"sources.*.images_url":      "gelbooru clones whose files live on another host (and whose listing lacks file_url): the base URL of /images/<directory>/<image>. Empty: the source's url.",
	"sources.*.render":          "html only: draw each page in headless Chromium (scrolling to the bottom) before the selectors apply, for galleries that JavaScript builds. Needs chromium installed.",
	"sources.*.detail_selector": "html only: on the page an image link leads to, CSS selector of the file link.",
	"sources.*.image_selector":  "html only: CSS selector of the image links. Required for kind html.",
	"sources.*.next_selector":   "html only: CSS selector of the next-page link.",
	"sources.*.ignore_robots":   "html only: do not honour robots.txt (the booru APIs never read it).",
	"scrape":                    "Collecting candidates.",
	"scrape.candidates":         "Images to download per class before curation; positive.",
	"scrape.min_width":          "Skip posts narrower than this many pixels (from the listing, before downloading).",
	"scrape.min_height":         "Skip posts lower than this many pixels.",
	"scrape.ratings":            "Ratings to keep: any of g (general), s (sensitive), q (questionable), e (explicit).",
	"scrape.exclude_tags":       "Skip posts carrying any of these tags.",
	"scrape.user_agent":         "User-Agent of every request; it should name you and a contact. Empty: chara's own.",
	"scrape.max_file_size":      "Largest file downloaded, in bytes.",
	"scrape.types":              "File types to keep: any of jpg, png, gif, webp. Empty: all four.",
	"scrape.redis":              "redis://[:password@]host:port/db to share one crawl between several machines (see the README, \"Several machines, one crawl\"). Empty: this machine only.",
	"scrape.job":                "Name of the shared crawl on scrape.redis: machines with the same job share one crawl. Empty: derived from the sources and classes.",
	"scrape.redis_lease":        "Shared crawl: how long a dead worker's claims, reservations and listing lease last (its candidates go to the others after two). Default 10s.",
	"scrape.ignore_robots":      "Do not honour robots.txt for any html source.",
	"scrape.single_character":   "Skip posts whose character tags name another character, or several. Default true. Danbooru and Moebooru list the character tags; for gelbooru sources chara asks the tag index (docs/sources.md); Zerochan and html sources are not checked.",
	"scrape.min_side":           "Fetch a site's sample or jpeg rendition instead of the original when both its sides reach this; 0: the larger of images.height and images.width; -1: always originals.",
	"curate":                    "Validation, near-duplicate removal and filters.",
	"curate.phash_threshold":    "Two images at most this far apart (64-bit pHash, Hamming distance, directly or mirrored) are near-duplicates if their colours, aspect ratio and 16x16 detail agree too; 0..64. Each member of a group is this close to the group's kept copy (no chains).",
	"curate.cross_class":        "The same picture under two classes (the same file, or a near-exact copy by every signal; look-alikes are not): exclude (drop both), keep-first (keep the first class's) or keep (keep both).",
	"curate.max_pixels":         "Refuse images of more pixels than this (decompression bombs); positive.",
	"curate.min_width":          "Reject images narrower than this.",
	"curate.min_height":         "Reject images lower than this.",
	"curate.max_aspect":         "Reject images whose long side over short side exceeds this; 0 disables, else at least 1.",
	"curate.min_entropy":        "Reject images whose grey-level histogram, over the whole picture, has less entropy (bits); 0 (default) disables: sprites on plain backgrounds score low.",
	"curate.min_subject":        "Reject as low-information the images of which less than this share differs from the background (the most common border colour; transparency counts as white): blank, near-uniform, solid colour; 0 disables, below 1.",
	"curate.min_saturation":     "Reject images whose mean chroma is below this (monochrome); 0 disables.",
	"images":                    "The dataset's image geometry and size.",
	"images.per_class":          "Images per class in the dataset (train+val+test); positive.",
	"images.height":             "Image height in pixels, 1..4096.",
	"images.width":              "Image width in pixels, 1..4096.",
	"images.fit":                "How an image meets height x width: pad (keep the aspect ratio, pad), crop (centre crop) or stretch.",
	"split":                     "Train/validation/test fractions.",
	"split.train":               "Fraction for training; positive; train+val+test = 1.",
	"split.val":                 "Fraction for validation (early stopping, best checkpoint).",
	"split.test":                "Fraction for the final test score.",
	"split.min_eval":            "Images every class must have in val and in test, at least (default 1; 0 allows an empty split). dataset build refuses fewer, dataset verify reports it.",
	"split.group_threshold":     "-1 (default): the split keeps curation's near-duplicate groups and groups nothing again; 0..64: kept images this close (pHash distance) are joined into one group too.",
	"train":                     "Training (chara train flags override these).",
	"train.models":              "Models chara run trains: effnet-b0 (EfficientNet-B0, 4.0M parameters: needs ImageNet weights to do well, see weights; hours per run on a CPU, minutes on a GPU or with freeze), cnn (small CNN, minutes on a CPU) or cnn2 (the improved CNN, minutes on a CPU).",
	"train.epochs":              "Maximum number of epochs; positive.",
	"train.batch_size":          "Batch size; positive.",
	"train.lr":                  "Adam learning rate; positive.",
	"train.patience":            "Stop after this many epochs without a better validation accuracy and restore the best weights; 0: never stop early.",
	"train.device":              "auto (CUDA when available), cpu, cuda or cuda:N.",
	"train.freeze":              "effnet-b0 only: train the head on backbone features computed once and cached (fast on a CPU; needs weights).",
	"train.augment":             "Augment training images: horizontal flip, small random resized crop, colour jitter.",
	"train.amp":                 "CUDA only: forward passes under bf16 autocast, channels-last memory.",
	"train.input_adapt":         "How dataset images reach a model input of another shape (cnn, cnn2 take 100x75): pad (default) or stretch.",
	"train.weights":             "effnet-b0: torchvision ImageNet weights file (chara weights fetch effnet-b0). Empty: random initialisation (trains from scratch: far slower and less accurate).",
	"seed":                      "One seed for selection, splits and training.",
	"classes":                   "The characters; at least one.",
	"classes[].name":            "The character's name; its folder is the name's letters and digits (any script), other characters as _.",
	"classes[].queries":         "Per source name: the board's own tag search, e.g. danbooru: nakano_miku solo.",
	"classes[].picture":         "A representative picture file (optional), shown by chara serve.",
}

// KeyDoc is one key of the schema.
type KeyDoc struct {
	Key     string // sources.*.kind
	Kind    string // in words
	Default string // YAML, "" when none
	Doc     string
}

// Keys lists every key of chara.yaml in file order, with its kind, default
// and documentation.
func Keys() []KeyDoc {
	var out []KeyDoc
	var walk func(t reflect.Type, v reflect.Value, path string)
	walk = func(t reflect.Type, v reflect.Value, path string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			k, ok := yamlKey(f)
			if !ok {
				continue
			}
			p := joinKey(path, k)
			var fv reflect.Value
			if v.IsValid() {
				fv = v.Field(i)
			}
			kd := KeyDoc{Key: p, Kind: kindName(f.Type), Doc: keyDocs[p], Default: defaultText(fv)}
			out = append(out, kd)
			switch ft := f.Type; {
			case ft.Kind() == reflect.Struct && ft != durationType:
				walk(ft, fv, p)
			case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
				out[len(out)-1].Kind = "a mapping of name to settings"
				walk(ft.Elem(), reflect.Value{}, p+".*")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				out[len(out)-1].Kind = "a list of entries"
				walk(ft.Elem(), reflect.Value{}, p+"[]")
			case ft.Kind() == reflect.Map:
				out[len(out)-1].Kind = "a mapping of name to text"
			}
		}
	}
	walk(reflect.TypeOf(Config{}), reflect.ValueOf(*Default()), "")
	return out
}

func defaultText(v reflect.Value) string {
	if !v.IsValid() {
		return ""
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if d, ok := v.Interface().(time.Duration); ok {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	switch v.Kind() {
	case reflect.Struct:
		return ""
	case reflect.Map, reflect.Slice:
		if v.Len() == 0 {
			return ""
		}
	case reflect.String:
		if v.String() == "" {
			return ""
		}
	}
	b, err := yaml.Marshal(v.Interface())
	if err != nil {
		return fmt.Sprint(v.Interface())
	}
	s := strings.TrimSpace(string(b))
	if v.Kind() == reflect.Slice {
		var items []string
		for i := 0; i < v.Len(); i++ {
			items = append(items, fmt.Sprint(v.Index(i).Interface()))
		}
		s = "[" + strings.Join(items, ", ") + "]"
	}
	return s
}

// Markdown is docs/config.md: every key with its kind, default and
// allowed values.
func Markdown() string {
	var b strings.Builder
	b.WriteString("# chara.yaml\n\n")
	b.WriteString("Generated from the schema (`internal/config`) by `go generate ./internal/config`; a test checks that it is current.\n")
	b.WriteString("`chara config show` prints the effective configuration (the file over these defaults), `chara config check` validates a file.\n")
	b.WriteString("A key that is not listed here is an error (with the nearest valid key suggested). `*` is a source's name, `[]` a list entry.\n\n")
	b.WriteString("| key | kind | default | what it does, allowed values |\n| --- | --- | --- | --- |\n")
	for _, k := range Keys() {
		def := k.Default
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", k.Key, k.Kind, def, strings.ReplaceAll(k.Doc, "|", "\\|"))
	}
	return b.String()
}

// undocumented lists schema keys without a keyDocs entry, and entries that
// name no key.
func undocumented() (missing, stale []string) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		seen[k.Key] = true
		if k.Doc == "" {
			missing = append(missing, k.Key)
		}
	}
	for k := range keyDocs {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	return missing, stale
}

// EffectiveYAML writes c with every key, including those at their zero
// value that chara.yaml may leave out (omitempty): what chara config show
// prints. Unset optional switches (nil) are left out.
func EffectiveYAML(c *Config) ([]byte, error) {
	n, err := fullNode(reflect.ValueOf(*c))
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

func fullNode(v reflect.Value) (*yaml.Node, error) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	switch {
	case v.Kind() == reflect.Struct && v.Type() != durationType:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i < v.NumField(); i++ {
			k, ok := yamlKey(v.Type().Field(i))
			if !ok {
				continue
			}
			child, err := fullNode(v.Field(i))
			if err != nil {
				return nil, err
			}
			if child == nil {
				continue
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, child)
		}
		return m, nil
	case v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.Struct:
		m := &yaml.Node{Kind: yaml.MappingNode}
		keys := v.MapKeys()
		sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
		for _, k := range keys {
			child, err := fullNode(v.MapIndex(k))
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k.String()}, child)
		}
		return m, nil
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Struct:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		for i := 0; i < v.Len(); i++ {
			child, err := fullNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, child)
		}
		return s, nil
	}
	var n yaml.Node
	val := v.Interface()
	if d, ok := val.(time.Duration); ok {
		val = d.String()
	}
	if err := n.Encode(val); err != nil {
		return nil, err
	}
	if n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	return &n, nil
}
