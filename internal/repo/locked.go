package repo

import (
	"log/slog"

	"slipway/internal/fetch"
)

// Pinned is a repository known only by a set of packages (a lock file's):
// no metadata is loaded, and downloads go to baseURL with client. Offline,
// a package that is not in the download directory already is an error
// instead of a download. Packages are checked against the lock file's
// checksums; to check signatures as well (the repository's gpgcheck), call
// WithKeys on the result.
func Pinned(id, baseURL string, pkgs []Package, client *fetch.Client, offline bool) *Repo {
	if client == nil {
		client = fetch.ForHosts([]string{baseURL}, fetch.Auth{}, nil)
	}
	return &Repo{Index: NewIndex(pkgs), ID: id, BaseURL: baseURL, client: client, offline: offline,
		log: slog.New(slog.DiscardHandler)}
}
