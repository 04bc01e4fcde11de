package fetch

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
	"sync/atomic"
	"testing"

	"slipway/internal/testutil"
)

func TestFetchTLSClientCertificate(t *testing.T) {
	ca := testutil.NewCA(t)
	srvCert, srvKey := ca.Issue(t, true)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(ca.Cert)
	var requests atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(payload)
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clientCert, clientKey := ca.Issue(t, false)
	certFile, keyFile, caFile := write("client.pem", clientCert), write("client.key", clientKey), write("ca.pem", ca.PEM)
	t.Setenv("SLIPWAY_TEST_CLIENT_KEY", string(clientKey))
	host := strings.TrimPrefix(srv.URL, "https://")

	ctx := context.Background()
	t.Run("certificate from files and env", func(t *testing.T) {
		c := quick(Options{HostAuth: map[string]Auth{host: {
			ClientCert: certFile, ClientKey: "env:SLIPWAY_TEST_CLIENT_KEY", CACert: "file:" + caFile}}})
		if err := c.Fetch(ctx, srv.URL+"/f", filepath.Join(t.TempDir(), "f"), digestOf(payload)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no client certificate", func(t *testing.T) {
		requests.Store(0)
		c := quick(Options{HostAuth: map[string]Auth{host: {CACert: caFile}}})
		err := c.Fetch(ctx, srv.URL+"/f", filepath.Join(t.TempDir(), "f"), Digest{})
		if err == nil || !strings.Contains(err.Error(), "tls: certificate required") || strings.Contains(err.Error(), "attempts") {
			t.Fatalf("got %v, want a TLS error, not retried", err)
		}
		if requests.Load() != 0 {
			t.Error("the handler ran without a client certificate")
		}
	})
	t.Run("server not trusted", func(t *testing.T) {
		c := quick(Options{Auth: Auth{ClientCert: certFile, ClientKey: keyFile}})
		err := c.Fetch(ctx, srv.URL+"/f", filepath.Join(t.TempDir(), "f"), Digest{})
		if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") || strings.Contains(err.Error(), "attempts") {
			t.Fatalf("got %v, want an unknown authority error, not retried", err)
		}
	})
	t.Run("mismatched key", func(t *testing.T) {
		_, otherKey := ca.Issue(t, false)
		c := quick(Options{Auth: Auth{ClientCert: certFile, ClientKey: write("other.key", otherKey), CACert: caFile}})
		err := c.Fetch(ctx, srv.URL+"/f", filepath.Join(t.TempDir(), "f"), Digest{})
		if err == nil || !strings.Contains(err.Error(), "client_cert/client_key: tls: private key does not match public key") {
			t.Fatalf("got %v", err)
		}
	})
}
