package scrape

import (
	"sort"

	"github.com/chara-dev/chara/internal/config"
)

// ConfigOptions turns chara.yaml's sources, scrape and classes sections
// into options. Credentials come from getenv (CHARA_<SOURCE>_LOGIN,
// CHARA_<SOURCE>_API_KEY, CHARA_<SOURCE>_USER_ID) over the file. Sources
// are taken in name order.
func ConfigOptions(cfg *config.Config, getenv func(string) string) []Option {
	names := make([]string, 0, len(cfg.Sources))
	for n := range cfg.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	srcs := make([]Source, 0, len(names))
	for _, n := range names {
		s := cfg.Sources[n].WithEnv(n, getenv)
		srcs = append(srcs, Source{
			Name: n, Kind: s.Kind, URL: s.URL, Login: s.Login, APIKey: s.APIKey, UserID: s.UserID,
			Delay: s.Delay, RandomDelay: s.RandomDelay, FileDelay: s.FileDelay, Parallelism: s.Parallelism,
			Limit: s.Limit, ImageSelector: s.ImageSelector, NextSelector: s.NextSelector, IgnoreRobots: s.IgnoreRobots,
			Pace: s.Pace, TagLimit: s.TagLimit, PasswordHash: s.PasswordHash, Strict: s.Strict, Sort: s.Sort, Dimension: s.Dimension,
			NoVerify: s.VerifyMD5 != nil && !*s.VerifyMD5, UserAgent: s.UserAgent, Cookies: s.Cookies,
			DetailSelector: s.DetailSelector, ImagesURL: s.ImagesURL, Render: s.Render,
		})
	}
	classes := make([]Class, 0, len(cfg.Classes))
	for _, c := range cfg.Classes {
		classes = append(classes, Class{Name: c.Name, Queries: c.Queries})
	}
	sc := cfg.Scrape
	minSide := sc.MinSide
	if minSide == 0 {
		minSide = max(cfg.Images.Height, cfg.Images.Width)
	}
	opts := []Option{
		WithSources(srcs...),
		WithClasses(classes...),
		WithCandidates(sc.Candidates),
		WithFilters(Filters{Ratings: sc.Ratings, MinWidth: sc.MinWidth, MinHeight: sc.MinHeight,
			ExcludeTags: sc.ExcludeTags, Types: sc.Types, MaxFileSize: sc.MaxFileSize,
			SingleCharacter: sc.SingleCharacterOn(), MinSide: max(minSide, 0)}),
		WithIgnoreRobots(sc.IgnoreRobots),
	}
	if sc.UserAgent != "" {
		opts = append(opts, WithUserAgent(sc.UserAgent))
	}
	if sc.Redis != "" {
		opts = append(opts, WithRedis(sc.Redis))
		if sc.RedisLease > 0 {
			opts = append(opts, WithRedisLease(sc.RedisLease))
		}
	}
	return opts
}
