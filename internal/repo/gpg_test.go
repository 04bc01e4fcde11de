package repo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"slipway/internal/testutil"
)

// gpgRPMs builds alpha and beta (each holding some data) and signs them
// as sign says (nil: unsigned), in a new directory without metadata.
func gpgRPMs(t *testing.T, sign map[string]*testutil.GPGKey) string {
	t.Helper()
	testutil.RequireTools(t, "gpg", "rpmsign", "rpmkeys", "createrepo_c", "rpmbuild")
	specs := map[string]string{}
	for _, name := range []string{"alpha", "beta"} {
		specs[name] = "%install\nmkdir -p %{buildroot}/usr/share/" + name + "\nhead -c 8192 /dev/urandom > %{buildroot}/usr/share/" + name +
			"/data\n%files\n/usr/share/" + name + "\n"
	}
	dir := testutil.RPMRepo(t, specs)
	os.RemoveAll(filepath.Join(dir, "repodata"))
	for name, key := range sign {
		if key != nil {
			key.SignRPMs(t, rpmFile(dir, name))
		}
	}
	return dir
}

func rpmFile(dir, name string) string { return filepath.Join(dir, "noarch", name+"-1-1.noarch.rpm") }

// gpgConfig is repository "base" at baseURL with gpgcheck and key.
func gpgConfig(baseURL string, keys ...string) RepoConfig {
	return RepoConfig{ID: "base", Enabled: true, BaseURLs: []string{baseURL}, GPGCheck: true, GPGKeys: keys}
}

func loadCfg(t *testing.T, cfg RepoConfig) *Repo {
	t.Helper()
	r, err := Load(context.Background(), cfg, Options{CacheDir: t.TempDir(), Client: quickClient()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantSignatureError checks that err is a *SignatureError of pkg from
// repository base that says want.
func wantSignatureError(t *testing.T, err error, pkg, want string) {
	t.Helper()
	var se *SignatureError
	prefix := "package " + pkg + " from repo base: signature check failed (not signed by the repository's gpgkey, or tampered): "
	if !errors.As(err, &se) || se.Package != pkg || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), want) {
		t.Errorf("want a signature error of %s saying %q, got %v", pkg, want, err)
	}
}

// wantFiles checks that dir holds exactly names: a rejected package is
// not left behind, nor is any temporary file.
func wantFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	var got []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestGPGCheckDownloadsSignedPackages(t *testing.T) {
	ctx := context.Background()
	key := testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, map[string]*testutil.GPGKey{"alpha": key, "beta": key}))
	data, _ := os.ReadFile(key.Public)
	os.WriteFile(filepath.Join(dir, "RPM-GPG-KEY-base"), data, 0o644)
	srv := serve(t, dir, "", "")

	for _, keyURL := range []string{srv.URL + "/RPM-GPG-KEY-base", "file://" + key.Public, key.Public} {
		r := loadCfg(t, gpgConfig(srv.URL, keyURL))
		dest := t.TempDir()
		for _, name := range []string{"alpha", "beta"} {
			if path, err := r.DownloadPackage(ctx, r.ByName(name)[0], dest); err != nil || filepath.Base(path) != name+"-1-1.noarch.rpm" {
				t.Errorf("key %s: %s: %v", keyURL, path, err)
			}
		}
		// Again, from the download directory.
		before := srv.count(".rpm")
		if _, err := r.DownloadPackage(ctx, r.ByName("alpha")[0], dest); err != nil || srv.count(".rpm") != before {
			t.Errorf("key %s: cached download: %v, %d requests", keyURL, err, srv.count(".rpm")-before)
		}
		wantFiles(t, dest, "alpha-1-1.noarch.rpm", "beta-1-1.noarch.rpm")
	}
	if srv.count("/RPM-GPG-KEY-base") != 1 {
		t.Errorf("the http gpgkey was fetched %d times", srv.count("/RPM-GPG-KEY-base"))
	}
}

func TestGPGCheckRejectsUnsignedPackage(t *testing.T) {
	ctx := context.Background()
	key := testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, map[string]*testutil.GPGKey{"alpha": key}))
	r := loadCfg(t, gpgConfig(serve(t, dir, "", "").URL, key.Public))
	dest := t.TempDir()
	_, err := r.DownloadPackage(ctx, r.ByName("beta")[0], dest)
	wantSignatureError(t, err, "beta-1-1.noarch", "digests OK (the package carries no signature)")
	wantFiles(t, dest)

	// Already in the download directory, with the right checksum: checked too.
	data, _ := os.ReadFile(rpmFile(dir, "beta"))
	os.WriteFile(filepath.Join(dest, "beta-1-1.noarch.rpm"), data, 0o644)
	_, err = r.DownloadPackage(ctx, r.ByName("beta")[0], dest)
	wantSignatureError(t, err, "beta-1-1.noarch", "no signature")
	wantFiles(t, dest)

	// Without gpgcheck the same package is fine.
	plain := gpgConfig(r.BaseURL)
	plain.GPGCheck = false
	if _, err := loadCfg(t, plain).DownloadPackage(ctx, r.ByName("beta")[0], dest); err != nil {
		t.Errorf("gpgcheck=0: %v", err)
	}
}

func TestGPGCheckRejectsTamperedPackage(t *testing.T) {
	ctx := context.Background()
	key := testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, map[string]*testutil.GPGKey{"alpha": key, "beta": key}))
	alpha := rpmFile(dir, "alpha")
	data, _ := os.ReadFile(alpha)
	data[len(data)-20] ^= 0xff
	data[len(data)-21] ^= 0xff
	os.WriteFile(alpha, data, 0o644)
	srv := serve(t, dir, "", "")

	// The metadata still has the signed file's checksum: a checksum error.
	r := loadCfg(t, gpgConfig(srv.URL, key.Public))
	dest := t.TempDir()
	_, err := r.DownloadPackage(ctx, r.ByName("alpha")[0], dest)
	var ce *ChecksumError
	if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "package alpha-1-1.noarch: ") || !strings.Contains(err.Error(), "sha256 mismatch: the metadata says "+ce.Want) {
		t.Errorf("want a checksum error, got %v", err)
	}
	wantFiles(t, dest)

	// Metadata made anew from the tampered file: the signature catches it.
	if out, err := exec.Command("createrepo_c", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	r = loadCfg(t, gpgConfig(srv.URL, key.Public))
	_, err = r.DownloadPackage(ctx, r.ByName("alpha")[0], dest)
	wantSignatureError(t, err, "alpha-1-1.noarch", "DIGESTS SIGNATURES NOT OK")
	wantFiles(t, dest)
	if !strings.Contains(err.Error(), "Payload SHA256 digest: BAD") {
		t.Errorf("rpmkeys' details are missing: %v", err)
	}
	if _, err := r.DownloadPackage(ctx, r.ByName("beta")[0], dest); err != nil {
		t.Errorf("the untouched package: %v", err)
	}
}

func TestGPGCheckRejectsOtherKey(t *testing.T) {
	key, other := testutil.NewGPGKey(t), testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, map[string]*testutil.GPGKey{"alpha": other}))
	r := loadCfg(t, gpgConfig(serve(t, dir, "", "").URL, key.Public))
	dest := t.TempDir()
	_, err := r.DownloadPackage(context.Background(), r.ByName("alpha")[0], dest)
	wantSignatureError(t, err, "alpha-1-1.noarch", "NOKEY")
	wantFiles(t, dest)

	// With both keys configured, it is accepted.
	r = loadCfg(t, gpgConfig(r.BaseURL, key.Public, other.Public))
	if _, err := r.DownloadPackage(context.Background(), r.ByName("alpha")[0], dest); err != nil {
		t.Errorf("two keys: %v", err)
	}
}

func TestRepoGPGCheck(t *testing.T) {
	key, other := testutil.NewGPGKey(t), testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, nil))
	md, sig := filepath.Join(dir, "repodata", "repomd.xml"), filepath.Join(dir, "repodata", "repomd.xml.asc")
	srv := serve(t, dir, "", "")
	cfg := RepoConfig{ID: "base", BaseURLs: []string{srv.URL}, RepoGPGCheck: true, GPGKeys: []string{key.Public}}
	load := func() error {
		_, err := Load(context.Background(), cfg, Options{CacheDir: t.TempDir(), Client: quickClient()})
		return err
	}

	key.SignDetached(t, md, sig)
	if err := load(); err != nil {
		t.Fatalf("signed repomd.xml: %v", err)
	}

	sigURL := srv.URL + "/repodata/repomd.xml.asc"
	for _, tc := range []struct {
		name  string
		setup func()
		want  []string
	}{
		{"missing", func() { os.Remove(sig) },
			[]string{"repository base: repo_gpgcheck is on but the signature " + sigURL + " is missing", "404 Not Found", "sign repomd.xml, or set repo_gpgcheck=0"}},
		{"of another file", func() { key.SignDetached(t, filepath.Join(dir, "RPM-GPG-KEY-x"), sig) },
			[]string{"repository base: repo_gpgcheck: " + sigURL + " is not a valid signature of " + srv.URL + "/repodata/repomd.xml by the repository's gpgkey", "BAD signature"}},
		{"by another key", func() { other.SignDetached(t, md, sig) },
			[]string{"is not a valid signature", "No public key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(dir, "RPM-GPG-KEY-x"), []byte("something else\n"), 0o644)
			tc.setup()
			err := load()
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("want %q in %v", w, err)
				}
			}
		})
	}

	// The signature URL is shown redacted.
	key.SignDetached(t, filepath.Join(dir, "RPM-GPG-KEY-x"), sig)
	cfg.BaseURLs = []string{strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1)}
	if err := load(); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("redaction: %v", err)
	}
}

func TestLoadGPGKeyErrors(t *testing.T) {
	testutil.RequireTools(t, "rpmkeys")
	dir, _ := synthetic(t, 3, "gz", "sha256")
	ctx := context.Background()
	missing := filepath.Join(t.TempDir(), "RPM-GPG-KEY-missing")
	srv := serve(t, t.TempDir(), "", "")
	for _, tc := range []struct {
		cfg  RepoConfig
		want string
	}{
		{gpgConfig(dir), "repository base: gpgcheck is on but no gpgkey is given: set gpgkey or gpgcheck=0"},
		{RepoConfig{ID: "base", BaseURLs: []string{dir}, RepoGPGCheck: true}, "repository base: repo_gpgcheck is on but no gpgkey is given: set gpgkey or repo_gpgcheck=0"},
		{gpgConfig(dir, "file://"+missing), "repository base: gpgkey file://" + missing + ": stat " + missing + ": no such file or directory: put the repository's public key there, or correct gpgkey"},
		{gpgConfig(dir, srv.URL+"/RPM-GPG-KEY"), "repository base: gpgkey " + srv.URL + "/RPM-GPG-KEY is not there: fetch " + srv.URL + "/RPM-GPG-KEY: 404 Not Found: correct gpgkey"},
	} {
		_, err := Load(ctx, tc.cfg, Options{CacheDir: t.TempDir(), Client: quickClient()})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
}

func TestPinnedWithKeys(t *testing.T) {
	ctx := context.Background()
	key := testutil.NewGPGKey(t)
	dir := createrepo(t, gpgRPMs(t, map[string]*testutil.GPGKey{"alpha": key}))
	data, _ := os.ReadFile(key.Public)
	os.WriteFile(filepath.Join(dir, "RPM-GPG-KEY-base"), data, 0o644)
	srv := serve(t, dir, "", "")
	pkgs := load(t, srv.URL, t.TempDir()).Packages
	keyURL := srv.URL + "/RPM-GPG-KEY-base"
	cache := t.TempDir()

	if err := Pinned("base", srv.URL, pkgs, quickClient(), false).WithKeys(ctx, cache, nil); err == nil ||
		!strings.Contains(err.Error(), "repository base: gpgcheck is on but no gpgkey is given") {
		t.Errorf("no keys: %v", err)
	}
	offline := Pinned("base", srv.URL, pkgs, quickClient(), true)
	if err := offline.WithKeys(ctx, cache, []string{keyURL}); err == nil || !strings.Contains(err.Error(), "gpgkey "+keyURL+": offline, and it was never fetched") {
		t.Errorf("offline, key never fetched: %v", err)
	}

	r := Pinned("base", srv.URL, pkgs, quickClient(), false)
	if err := r.WithKeys(ctx, cache, []string{keyURL}); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	if _, err := r.DownloadPackage(ctx, r.ByName("alpha")[0], dest); err != nil {
		t.Errorf("signed: %v", err)
	}
	_, err := r.DownloadPackage(ctx, r.ByName("beta")[0], dest)
	wantSignatureError(t, err, "beta-1-1.noarch", "no signature")
	wantFiles(t, dest, "alpha-1-1.noarch.rpm")

	// Offline, with the key fetched before: the cached unsigned package is
	// rejected and deleted, the signed one is handed out.
	if err := offline.WithKeys(ctx, cache, []string{keyURL}); err != nil {
		t.Fatal(err)
	}
	unsigned, _ := os.ReadFile(rpmFile(dir, "beta"))
	os.WriteFile(filepath.Join(dest, "beta-1-1.noarch.rpm"), unsigned, 0o644)
	_, err = offline.DownloadPackage(ctx, offline.ByName("beta")[0], dest)
	wantSignatureError(t, err, "beta-1-1.noarch", "no signature")
	wantFiles(t, dest, "alpha-1-1.noarch.rpm")
	if _, err := offline.DownloadPackage(ctx, offline.ByName("alpha")[0], dest); err != nil {
		t.Errorf("offline, signed: %v", err)
	}
}
