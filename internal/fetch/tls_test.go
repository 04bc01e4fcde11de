package fetch

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testCA issues certificates for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

var serial atomic.Int64

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: "slipway test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a certificate and key, in PEM, for a server (127.0.0.1) or a client.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: "builder"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func TestFetchTLSClientCertificate(t *testing.T) {
	ca := newCA(t)
	srvCert, srvKey := ca.issue(t, true)
	pair, err := tls.X509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AddCert(ca.cert)
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
	clientCert, clientKey := ca.issue(t, false)
	certFile, keyFile, caFile := write("client.pem", clientCert), write("client.key", clientKey), write("ca.pem", ca.pem)
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
		_, otherKey := ca.issue(t, false)
		c := quick(Options{Auth: Auth{ClientCert: certFile, ClientKey: write("other.key", otherKey), CACert: caFile}})
		err := c.Fetch(ctx, srv.URL+"/f", filepath.Join(t.TempDir(), "f"), Digest{})
		if err == nil || !strings.Contains(err.Error(), "client_cert/client_key: tls: private key does not match public key") {
			t.Fatalf("got %v", err)
		}
	})
}
