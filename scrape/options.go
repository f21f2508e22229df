package scrape

import (
	"net/http"
	"time"

	"github.com/chara-dev/chara/internal/progress"
)

// Class is one character to collect images of.
type Class struct {
	Name    string
	Queries map[string]string // source name -> query (tags, or a path for html sources)
}

// Option configures a Scraper.
type Option func(*options)

type options struct {
	sources      []Source
	classes      []Class
	only         string
	filters      Filters
	candidates   int
	reporter     progress.Reporter
	transport    http.RoundTripper
	redisURL     string
	redisNS      string
	userAgent    string
	dryRun       bool
	retry        RetryPolicy
	delay        *time.Duration
	ignoreRobots bool
	maxPage      int64
	redisT       redisTimes
	skipCurated  bool
}

// DefaultUserAgent names the project, as the sites' rules ask.
const DefaultUserAgent = "chara/dev (+https://github.com/chara-dev/chara)"

func defaultOptions() options {
	return options{
		candidates: 1200,
		reporter:   progress.Nop(),
		redisNS:    "chara:",
		userAgent:  DefaultUserAgent,
		retry:      DefaultRetryPolicy(),
		maxPage:    16 << 20,
		redisT:     defaultRedisTimes(),
		filters:    Filters{Ratings: []string{"g", "s"}, MaxFileSize: 20 << 20, SingleCharacter: true},
	}
}

// WithSources sets the sites to search.
func WithSources(s ...Source) Option { return func(o *options) { o.sources = append(o.sources, s...) } }

// WithClasses sets the classes and their queries.
func WithClasses(c ...Class) Option { return func(o *options) { o.classes = append(o.classes, c...) } }

// WithOnlyClass restricts the run to the class with this name.
func WithOnlyClass(name string) Option { return func(o *options) { o.only = name } }

// WithFilters sets the filters applied before downloading (default:
// ratings g and s, files up to 20 MiB).
func WithFilters(f Filters) Option { return func(o *options) { o.filters = f } }

// WithCandidates sets how many files each class should have (default 1200).
func WithCandidates(n int) Option { return func(o *options) { o.candidates = n } }

// WithReporter sets where progress goes (default: nowhere).
func WithReporter(r progress.Reporter) Option { return func(o *options) { o.reporter = r } }

// WithTransport sets the HTTP transport under retries and limits.
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithRedis shares the crawl through Redis (redis://host:port/db).
func WithRedis(url string) Option { return func(o *options) { o.redisURL = url } }

// WithRedisNamespace sets the prefix of every Redis key (default "chara:").
func WithRedisNamespace(ns string) Option { return func(o *options) { o.redisNS = ns } }

// WithUserAgent sets the User-Agent; it should name the project and a contact.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// WithDryRun lists what would be fetched: pages are requested, files are
// not, and nothing is written.
func WithDryRun(on bool) Option { return func(o *options) { o.dryRun = on } }

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithDelay replaces every source's page and file delay (tests, local mirrors).
func WithDelay(d time.Duration) Option { return func(o *options) { o.delay = &d } }

// WithIgnoreRobots stops honouring robots.txt for the html sources (the API
// kinds never read it).
func WithIgnoreRobots(on bool) Option { return func(o *options) { o.ignoreRobots = on } }

// WithMaxPageSize bounds the body of an API or gallery page (default 16 MiB).
func WithMaxPageSize(n int64) Option { return func(o *options) { o.maxPage = n } }

// WithoutCurated skips reading curated/ at the start of the run.
func WithoutCurated() Option { return func(o *options) { o.skipCurated = true } }
