package repo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/fetch"
	"slipway/internal/testutil"
)

// A repository behind a bearer token, and one behind TLS client
// certificates (made in the test), each loaded with the right credentials
// and refused with wrong ones, the error saying why without the secret.
func TestLoadWithTokenAndClientCertificate(t *testing.T) {
	dir, _ := synthetic(t, 5, "gz", "sha256")
	files := http.FileServer(http.Dir(dir))
	loadWith := func(url string, auth fetch.Auth, cfg RepoConfig) error {
		cfg.ID, cfg.BaseURLs = "secured", []string{url}
		client := fetch.ForHosts(cfg.BaseURLs, auth, nil)
		if auth.IsZero() {
			client = nil // the repository's own settings (RepoConfig.Auth)
		}
		r, err := Load(context.Background(), cfg, Options{CacheDir: t.TempDir(), Client: client})
		if err == nil && len(r.Packages) != 5 {
			t.Errorf("%d packages", len(r.Packages))
		}
		return err
	}

	t.Run("bearer token", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer right-token" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			files.ServeHTTP(w, r)
		}))
		defer srv.Close()
		t.Setenv("REPO_TOKEN", "right-token")
		if err := loadWith(srv.URL, fetch.Auth{Token: "env:REPO_TOKEN"}, RepoConfig{}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("REPO_TOKEN", "wrong-token")
		err := loadWith(srv.URL, fetch.Auth{Token: "env:REPO_TOKEN"}, RepoConfig{})
		if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong-token") {
			t.Errorf("wrong token: %v", err)
		}
	})

	t.Run("client certificate", func(t *testing.T) {
		ca := testutil.NewCA(t)
		srvCert, srvKey := ca.Issue(t, true)
		pair, err := tls.X509KeyPair(srvCert, srvKey)
		if err != nil {
			t.Fatal(err)
		}
		clients := x509.NewCertPool()
		clients.AddCert(ca.Cert)
		srv := httptest.NewUnstartedServer(files)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes below
		srv.StartTLS()
		defer srv.Close()
		keys := t.TempDir()
		write := func(name string, data []byte) string {
			p := filepath.Join(keys, name)
			os.WriteFile(p, data, 0o600)
			return p
		}
		cert, key := ca.Issue(t, false)
		// As a .repo file gives them: sslclientcert, sslclientkey, sslcacert.
		cfg := RepoConfig{ClientCert: write("client.pem", cert), ClientKey: write("client.key", key), CACert: write("ca.pem", ca.PEM)}
		if err := loadWith(srv.URL, fetch.Auth{}, cfg); err != nil {
			t.Fatal(err)
		}
		err = loadWith(srv.URL, fetch.Auth{}, RepoConfig{CACert: cfg.CACert})
		if err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("no client certificate: %v", err)
		}
		other := testutil.NewCA(t)
		otherCert, otherKey := other.Issue(t, false)
		err = loadWith(srv.URL, fetch.Auth{}, RepoConfig{ClientCert: write("other.pem", otherCert), ClientKey: write("other.key", otherKey), CACert: cfg.CACert})
		if err == nil || !strings.Contains(err.Error(), "tls") || strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("a certificate the server does not trust: %v", err)
		}
	})
}
