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
		{"sources: {d: {kind: danbooru, url: http://x, file_delay: -1s}}", "sources.d.file_delay"},
		{"sources: {d: {kind: danbooru, url: http://x, random_delay: -1s}}", "sources.d.random_delay"},
	} {
		_, err := Parse("chara.yaml", []byte(c.yaml))
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Key != c.key {
			t.Errorf("%s: %v, want an error naming %s", c.yaml, err, c.key)
		}
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
