package source

import (
	"log/slog"
	"net/url"
	"strings"

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
	opts := Options{URLs: s.URLs, AllowUpstream: s.AllowUpstream, Logger: logger}
	if s.CacheDir != "" {
		opts.CacheDir = p.Path(s.CacheDir)
	}
	fo := fetch.Options{Logger: logger}
	if auth := projectAuth(p); !auth.IsZero() {
		fo.HostAuth = map[string]fetch.Auth{}
		for _, raw := range s.URLs {
			if u, err := url.Parse(raw); err == nil && u.Host != "" {
				fo.HostAuth[u.Host] = auth
			}
		}
	}
	opts.Fetcher = fetch.New(fo)
	return opts
}

// projectAuth is [sources.auth] with its file paths made absolute.
func projectAuth(p *project.Project) fetch.Auth {
	a := p.Config.Sources.Auth
	secret := func(v string) string {
		if rest, ok := strings.CutPrefix(v, "file:"); ok {
			return "file:" + p.Path(rest)
		}
		return v
	}
	pem := func(v string) string {
		if v == "" || strings.HasPrefix(v, "env:") || strings.HasPrefix(strings.TrimSpace(v), "-----BEGIN") {
			return v
		}
		if rest, ok := strings.CutPrefix(v, "file:"); ok {
			return "file:" + p.Path(rest)
		}
		return p.Path(v)
	}
	return fetch.Auth{
		Username: secret(a.Username), Password: secret(a.Password), Token: secret(a.Token),
		ClientCert: pem(a.ClientCert), ClientKey: pem(a.ClientKey), CACert: pem(a.CACert),
	}
}
