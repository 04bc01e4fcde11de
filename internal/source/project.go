package source

import (
	"log/slog"

	"slipway/internal/fetch"
	"slipway/internal/project"
)

// ProjectOptions turns a project's [sources] table into Options: relative
// paths (cache_dir, certificate files, file: secrets) are resolved against
// the project directory, and the downloads go through a fetch.Client that
// sends [sources.auth] only to the hosts of sources.urls, never upstream.
// logger may be nil.
func ProjectOptions(p *project.Project, logger *slog.Logger) Options {
	s := p.Config.Sources
	opts := Options{URLs: s.URLs, AllowUpstream: s.AllowUpstream, Logger: logger, Offline: p.Offline}
	if s.CacheDir != "" {
		opts.CacheDir = p.Path(s.CacheDir)
	}
	opts.Fetcher = fetch.ForHosts(s.URLs, p.FetchAuth(s.Auth), logger)
	return opts
}
