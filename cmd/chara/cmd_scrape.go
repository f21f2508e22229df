package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/scrape"
)

// scrapeOptions are the flags of chara scrape.
type scrapeOptions struct {
	Class  string
	DryRun bool
	JSON   bool
	// The shared crawl (scrape.redis).
	Job      string
	Status   bool
	ResetJob bool
}

func newScrapeCommand() *cli.Command {
	return &cli.Command{
		Name:  "scrape",
		Usage: "collect candidate images per class from the configured sources",
		Description: "Searches every source with each class's query and downloads candidates into raw/<class>/\n" +
			"until the class has scrape.candidates files. Files already handled (archive.db, curated/) are\n" +
			"never fetched again. Credentials: CHARA_<SOURCE>_LOGIN and CHARA_<SOURCE>_API_KEY. Each site's keys, limits\n" +
			"and errors: docs/sources.md.\n\n" +
			"With scrape.redis set, every machine running chara scrape with the same chara.yaml works on one\n" +
			"shared crawl (a job, named by scrape.job or derived from the sources and classes): each file is\n" +
			"fetched once, each class stops at exactly scrape.candidates in all, and the site sees the load of\n" +
			"one machine. --status shows the job, --reset-job forgets it; chara collect then gathers the\n" +
			"workers' files into one workspace. See the README, \"Several machines, one crawl\".",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "class", Usage: "scrape only the class `NAME`"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be fetched; download and write nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
			&cli.StringFlag{Name: "job", Usage: "shared crawl: the job `NAME` (default: scrape.job, or derived from the config)"},
			&cli.BoolFlag{Name: "status", Usage: "shared crawl: show the job's classes, listings and workers; fetch nothing"},
			&cli.BoolFlag{Name: "reset-job", Usage: "shared crawl: delete the job from Redis (workspaces keep their files and publish them again)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("scrape: unexpected argument %q", c.Args().First())
			}
			return runScrape(c.Context, globals(c), scrapeOptions{
				Class: c.String("class"), DryRun: c.Bool("dry-run"), JSON: c.Bool("json"),
				Job: c.String("job"), Status: c.Bool("status"), ResetJob: c.Bool("reset-job"),
			})
		},
	}
}

func runScrape(ctx context.Context, g *globalOptions, opts scrapeOptions) error {
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	if opts.Class != "" {
		cl, ok := cfg.ClassByName(opts.Class)
		if !ok {
			return usagef("scrape: --class: no class named %q in %s", opts.Class, g.ConfigPath)
		}
		opts.Class = cl.Name // as chara.yaml spells it (NFC)
	}
	sopts := []scrape.Option{
		scrape.WithUserAgent(fmt.Sprintf("chara/%s (+https://github.com/chara-dev/chara)", version)),
	}
	sopts = append(sopts, scrape.ConfigOptions(cfg, os.Getenv)...) // scrape.user_agent wins
	sopts = append(sopts, scrape.WithReporter(g.reporter()), scrape.WithDryRun(opts.DryRun))
	if done, err := scrapeJob(ctx, g, cfg, opts, &sopts); done || err != nil {
		return err
	}
	if opts.Class != "" {
		sopts = append(sopts, scrape.WithOnlyClass(opts.Class))
	}
	sum, err := scrape.New(g.Workspace, sopts...).Run(ctx)
	if sum != nil && (err == nil || len(sum.Classes) > 0) {
		if opts.JSON {
			enc := json.NewEncoder(g.Stdout)
			enc.SetIndent("", "  ")
			if werr := enc.Encode(sum); werr != nil {
				return werr
			}
		} else {
			if opts.DryRun {
				for _, c := range sum.Classes {
					for _, s := range c.Sources {
						for _, p := range s.Planned {
							fmt.Fprintf(g.Stdout, "%s\t%s\t%s\t%s\n", c.Class, s.Source, p.PostID, p.URL)
						}
					}
				}
			}
			if werr := sum.WriteTable(g.Stdout); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		return err
	}
	if errs := sum.Errors(); len(errs) > 0 {
		return &exitCodeError{code: exitFailure, err: fmt.Errorf("scrape: %s stopped early (see the table)", plural(len(errs), "source", "sources"))}
	}
	return nil
}

// scrapeJob names the shared crawl's job (when scrape.redis is set) and
// serves --status and --reset-job; done means nothing is left to do.
func scrapeJob(ctx context.Context, g *globalOptions, cfg *config.Config, opts scrapeOptions, sopts *[]scrape.Option) (bool, error) {
	if cfg.Scrape.Redis == "" {
		if opts.Status || opts.ResetJob || opts.Job != "" {
			return true, usagef("scrape: --status, --reset-job and --job need scrape.redis in %s (a shared crawl)", g.ConfigPath)
		}
		return false, nil
	}
	if opts.Status && opts.ResetJob {
		return true, usagef("scrape: --status or --reset-job, not both")
	}
	job := opts.Job
	if job == "" {
		job = cfg.Scrape.Job
	}
	if job == "" {
		job = scrape.DefaultJobName(cfg)
	}
	if err := scrape.CheckJobName(job); err != nil {
		return true, usagef("scrape: --job: %v", err)
	}
	*sopts = append(*sopts, scrape.WithRedisJob(job))
	switch {
	case opts.Status:
		st, err := scrape.ReadJobStatus(ctx, *sopts...)
		if err != nil {
			return true, err
		}
		if opts.JSON {
			enc := json.NewEncoder(g.Stdout)
			enc.SetIndent("", "  ")
			return true, enc.Encode(jobStatusJSON{Job: job, JobStatus: *st})
		}
		return true, writeJobStatus(g.Stdout, job, st)
	case opts.ResetJob:
		n, err := scrape.ResetJob(ctx, false, *sopts...)
		if err != nil {
			return true, err
		}
		fmt.Fprintf(g.Stdout, "job %s: %d keys deleted from %s; the workspaces keep their files\n", job, n, scrape.RedactURL(cfg.Scrape.Redis))
		return true, nil
	}
	return false, nil
}

func writeJobStatus(w io.Writer, job string, st *scrape.JobStatus) error {
	fmt.Fprintf(w, "job %s on %s (keys %s*)\n\n", job, st.Redis, st.Namespace)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\thave\tfetching\ttarget")
	for _, c := range st.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", c.Class, c.Have, c.Fetching, c.Target)
	}
	fmt.Fprintln(tw, "\nlisting\tlisted\tqueued\tpending\tended\tcursor\tlister")
	for _, l := range st.Listings {
		ended := "no"
		if l.Ended {
			ended = "yes"
		}
		lister := l.Lister
		if lister == "" {
			lister = "-"
		}
		fmt.Fprintf(tw, "%s / %s\t%d\t%d\t%d\t%s\t%q\t%s\n", l.Class, l.Source, l.Listed, l.Queued, l.Pending, ended, l.Cursor, lister)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nworkers (%d):\n", len(st.Workers))
	for _, m := range st.Workers {
		state := "running"
		if m.Left {
			state = "done"
		}
		fmt.Fprintf(w, "  %s  %s:%s  %s, seen %s ago\n", m.ID, m.Host, m.Workspace, state, time.Since(m.Seen).Round(time.Second))
	}
	for host, ms := range st.Paused {
		fmt.Fprintf(w, "paused: %s for %s more (Retry-After)\n", host, (time.Duration(ms) * time.Millisecond).Round(time.Second))
	}
	return nil
}

// jobStatusJSON is chara scrape --status --json.
type jobStatusJSON struct {
	Job string `json:"job" doc:"the job's name"`
	scrape.JobStatus
}
