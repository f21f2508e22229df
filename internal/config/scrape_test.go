package config

import (
	"errors"
	"strings"
	"testing"
)

func TestScrapeValidationNamesTheKey(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"scrape: {ratings: [g, x]}", "scrape.ratings[1]"},
		{"scrape: {types: [jpg, bmp]}", "scrape.types[1]"},
		{"scrape: {min_height: -1}", "scrape.min_height"},
		{"scrape: {redis: http://x}", "scrape.redis"},
		{"scrape: {redis: 'redis://x:6379', job: 'a b'}", "scrape.job"},
		{"sources: {d: {kind: danbooru, url: http://x, file_delay: -1s}}", "sources.d.file_delay"},
		{"sources: {d: {kind: danbooru, url: http://x, random_delay: -1s}}", "sources.d.random_delay"},
		{"sources: {d: {kind: danbooru, url: http://x, render: true}}", "sources.d.render"},
		{"sources: {d: {kind: danbooru, url: http://x, pace: -1s}}", "sources.d.pace"},
		{"sources: {d: {kind: danbooru, url: http://x, tag_limit: -2}}", "sources.d.tag_limit"},
		{"sources: {d: {kind: gelbooru, url: http://x, images_url: ftp://y}}", "sources.d.images_url"},
		{"scrape: {min_side: -5}", "scrape.min_side"},
		{"sources: {z: {kind: zerochan, url: http://x, sort: score}}", "sources.z.sort"},
		{"sources: {z: {kind: zerochan, url: http://x, dimension: wide}}", "sources.z.dimension"},
		{"sources: {d: {kind: danbooru, url: http://x, sort: fav}}", "sources.d.sort"},
	} {
		_, err := Parse("chara.yaml", []byte(c.yaml))
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != c.key {
			t.Errorf("%s: %v, want an error naming %s", c.yaml, err, c.key)
		}
	}
}

func TestZerochanSortAndDimensionAccepted(t *testing.T) {
	cfg, err := Parse("chara.yaml", []byte("classes: [{name: Miku, queries: {z: Nakano Miku}}]\nsources: {z: {kind: zerochan, url: http://x, login: me, sort: fav, dimension: portrait}}"))
	if err != nil {
		t.Fatal(err)
	}
	if s := cfg.Sources["z"]; s.Sort != "fav" || s.Dimension != "portrait" {
		t.Errorf("zerochan source: %+v", s)
	}
}

func TestSourceCredentialsFromEnvAreNeverPrinted(t *testing.T) {
	s := Source{Kind: "danbooru", URL: "https://danbooru.donmai.us", Login: "file-login", APIKey: "file-key"}
	env := map[string]string{"CHARA_MY_BOORU_API_KEY": "env-key"}
	got := s.WithEnv("my-booru", func(k string) string { return env[k] })
	if got.Login != "file-login" || got.APIKey != "env-key" {
		t.Errorf("WithEnv: %+v", got)
	}
	for _, out := range []string{got.String(), got.GoString()} {
		if strings.Contains(out, "env-key") || strings.Contains(out, "file-login") {
			t.Errorf("credentials shown: %s", out)
		}
	}
}

func TestRedisPasswordNeverInErrors(t *testing.T) {
	for _, y := range []string{"scrape: {redis: 'http://u:s3cret@x:1'}", "scrape: {redis: 'redis://u:s3cret@[x'}"} {
		_, err := Parse("chara.yaml", []byte(y))
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v", y, err)
		}
	}
	if got := RedactURL("redis://:pw@h:6379/0"); got != "redis://:REDACTED@h:6379/0" {
		t.Errorf("RedactURL: %s", got)
	}
}
