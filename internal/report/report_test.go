package report

import (
	"context"
	"encoding/xml"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"slipway/internal/build"
	"slipway/internal/testutil"
)

// sample is a run of 3 workers: two builds, a failure, and specs that ran
// on no worker (reused, blocked, toolchain). Logs are under dir but one.
func sample(dir string) Run {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	logs := filepath.Join(dir, "logs", "packages")
	return Run{
		Project: "azl-mini", Command: "slipway build-all", Start: t0, Duration: 95 * time.Second, Workers: 3,
		Stages: []Stage{
			{Name: "toolchain", Summary: "12 reused from the toolchain repository", Duration: 3 * time.Second},
			{Name: "packages", Summary: "2 built, 1 failed, 1 reused, 1 blocked", Duration: 80 * time.Second, Failed: true},
		},
		Packages: []Package{
			{Spec: "zlib", Decision: "built", Reason: "no earlier build", Log: filepath.Join(logs, "zlib.log"), Worker: 1, Start: at(0), End: at(20), Duration: 20 * time.Second},
			{Spec: "openssl-with-a-rather-long-name", Decision: "built", Reason: "source openssl-3.tar.gz changed", Log: filepath.Join(logs, "openssl.log"), Worker: 2, Start: at(1), End: at(70), Duration: 69 * time.Second},
			{Spec: "curl", Decision: "failed", Reason: `%check failed: <script>alert("x")</script> ` + strings.Repeat("a-very-long-unbroken-word-", 12), Log: filepath.Join(logs, "curl #1.log"), Worker: 3, Start: at(21), End: at(50), Duration: 29 * time.Second},
			{Spec: "bash", Decision: "reused", Reason: "inputs unchanged since 2025-02-28T09:00:00Z", Log: "/var/cache/slipway/store/ab12/build.log"},
			{Spec: "git", Decision: "blocked", Reason: "needs curl, which failed", Blocker: "curl"},
			{Spec: "glibc", Decision: "toolchain"},
		},
		Artifacts: []Artifact{
			{Image: "core-efi", Type: "vhdx", Path: filepath.Join(dir, "..", "out", "images", "core-efi", "core.vhdx"), Size: 512 << 20},
			{Image: "core-efi", Type: "tar.gz", Path: filepath.Join(dir, "images", "core.tar.gz"), Size: 3 << 19},
		},
	}
}

// elem is an element of a parsed page, with its ancestors.
type elem struct {
	name, id   string
	class      []string
	href, text string
	parent     *elem
}

func (e *elem) within(name, id string) bool {
	for p := e.parent; p != nil; p = p.parent {
		if p.name == name && p.id == id {
			return true
		}
	}
	return false
}

// parse reads an HTML page (as written, or as Chromium dumps its DOM)
// into its elements, in document order.
func parse(t *testing.T, page []byte) []*elem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(page)))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	var all []*elem
	var cur *elem
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &elem{name: strings.ToLower(tok.Name.Local), parent: cur}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "id":
					e.id = a.Value
				case "class":
					e.class = strings.Fields(a.Value)
				case "href":
					e.href = a.Value
				}
			}
			all, cur = append(all, e), e
		case xml.EndElement:
			if cur != nil {
				cur = cur.parent
			}
		case xml.CharData:
			for e := cur; e != nil; e = e.parent {
				e.text += string(tok)
			}
		}
	}
	if len(all) == 0 {
		t.Fatalf("no elements in the page:\n%s", page)
	}
	return all
}

// find returns the elements named name with class (if any) inside the
// element with that id.
func find(all []*elem, name, class, in, id string) []*elem {
	var out []*elem
	for _, e := range all {
		if e.name == name && (class == "" || slices.Contains(e.class, class)) && e.within(in, id) {
			out = append(out, e)
		}
	}
	return out
}

func firstChild(all []*elem, parent *elem) *elem {
	for _, e := range all {
		if e.parent == parent {
			return e
		}
	}
	return nil
}

// checkPage checks what any rendering of sample must show.
func checkPage(t *testing.T, all []*elem) {
	t.Helper()
	bars := find(all, "rect", "bar", "svg", "timeline")
	if len(bars) != 3 {
		t.Errorf("timeline has %d bars, want 3 (the builds that ran on a worker)", len(bars))
	}
	var decisions []string
	for _, b := range bars {
		decisions = append(decisions, b.class[1])
	}
	slices.Sort(decisions)
	if !slices.Equal(decisions, []string{"built", "built", "failed"}) {
		t.Errorf("bar decisions %v, want built, built, failed", decisions)
	}
	rows := find(all, "tr", "", "table", "packages")
	var specs []string
	for _, e := range all {
		if e.name == "td" && slices.Contains(rows, e.parent) && e.parent.parent.name == "tbody" && e == firstChild(all, e.parent) {
			specs = append(specs, e.text)
		}
	}
	if want := []string{"curl", "git", "openssl-with-a-rather-long-name", "zlib", "bash", "glibc"}; !slices.Equal(specs, want) {
		t.Errorf("package rows %v, want %v", specs, want)
	}
	if n := len(find(all, "tr", "", "table", "artifacts")); n != 3 {
		t.Errorf("artifacts table has %d rows, want a header and 2", n)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := Write(path, sample(dir)); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := parse(t, page)
	checkPage(t, all)

	var links []string
	for _, a := range find(all, "a", "", "table", "packages") {
		links = append(links, a.href)
	}
	wantLinks := []string{"logs/packages/curl%20%231.log", "logs/packages/openssl.log", "logs/packages/zlib.log",
		"file:///var/cache/slipway/store/ab12/build.log"}
	if !slices.Equal(links, wantLinks) {
		t.Errorf("log links %q, want %q", links, wantLinks)
	}
	links = nil
	for _, a := range find(all, "a", "", "table", "artifacts") {
		links = append(links, a.href)
	}
	outside := "file://" + filepath.ToSlash(filepath.Join(filepath.Dir(dir), "out", "images", "core-efi", "core.vhdx"))
	if want := []string{outside, "images/core.tar.gz"}; !slices.Equal(links, want) {
		t.Errorf("artifact links %q, want %q", links, want)
	}

	s := string(page)
	if strings.Contains(s, "<script") {
		t.Error("the page has a script: the reason was not escaped")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("the escaped reason is missing")
	}
	for _, want := range []string{"azl-mini", "slipway build-all", "2025-03-01 10:00:00 UTC", "1m35s",
		"512.0", "1.5", "(blocked by curl)", `class="failed"`, "worker 3"} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("report.html: %v, mode %v", err, fi.Mode())
	}
}

func TestWriteNothingBuilt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	r := Run{Project: "p", Command: "slipway build", Workers: 4, Packages: []Package{
		{Spec: "bash", Decision: "reused"}, {Spec: "glibc", Decision: "toolchain"}}}
	if err := Write(path, r); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(path)
	all := parse(t, page)
	if n := len(find(all, "rect", "bar", "svg", "timeline")); n != 0 {
		t.Errorf("%d bars, want none", n)
	}
	texts := find(all, "text", "empty", "svg", "timeline")
	if len(texts) != 1 || texts[0].text != "nothing was built in this run" {
		t.Errorf("the empty timeline does not say nothing was built:\n%s", page)
	}
}

func TestPackages(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	sum := &build.Summary{Workers: 2, Results: []build.Result{
		{Spec: "a", Decision: build.Built, Worker: 1, Start: t0, End: t0.Add(3 * time.Second), Log: "/b/a.log", Reason: "new"},
		{Spec: "b", Decision: build.Reused, Worker: -1, Start: t0, End: t0},
		{Spec: "c", Decision: build.Blocked, Worker: -1, Blocker: "a"},
	}}
	got := Packages(sum)
	want := []Package{
		{Spec: "a", Decision: "built", Worker: 2, Start: t0, End: t0.Add(3 * time.Second), Duration: 3 * time.Second, Log: "/b/a.log", Reason: "new"},
		{Spec: "b", Decision: "reused", Start: t0, End: t0},
		{Spec: "c", Decision: "blocked", Blocker: "a"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Packages:\n got %+v\nwant %+v", got, want)
	}
	if Packages(nil) != nil {
		t.Error("Packages(nil) is not nil")
	}
}

func TestNiceStep(t *testing.T) {
	for span, want := range map[float64]float64{1: 0.1, 9: 1, 70: 10, 95: 10, 180: 20, 3600: 500, 0.5: 0.05} {
		if got := niceStep(span); got < want*0.999 || got > want*1.001 {
			t.Errorf("niceStep(%g) = %g, want %g", span, got, want)
		}
	}
}

// TestChromiumDrawsReport renders the report in headless Chromium and
// checks the DOM it built and a screenshot.
func TestChromiumDrawsReport(t *testing.T) {
	testutil.RequireTools(t, "chromium")
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := Write(path, sample(dir)); err != nil {
		t.Fatal(err)
	}
	chromium := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--user-data-dir=" + t.TempDir()}, append(args, "file://"+path)...)
		cmd := exec.CommandContext(ctx, "chromium", args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr // dbus and GPU warnings: only shown on failure
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out
	}

	checkPage(t, parse(t, chromium("--dump-dom")))

	shot := filepath.Join(t.TempDir(), "report.png")
	chromium("--screenshot="+shot, "--window-size=1280,900", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// The bars' colors (--built, --failed) must be on screen, which a
	// blank or unstyled page would not show.
	colors := map[[3]uint32]int{}
	var built, failed int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := [3]uint32{r >> 8, g >> 8, bl >> 8}
			colors[c]++
			switch {
			case near(c, [3]uint32{0x1f, 0x8f, 0x4e}):
				built++
			case near(c, [3]uint32{0xd1, 0x24, 0x2f}):
				failed++
			}
		}
	}
	if len(colors) < 2 {
		t.Fatal("the screenshot is a single color")
	}
	if built < 500 || failed < 500 {
		t.Errorf("the screenshot shows %d pixels of built's color and %d of failed's: the timeline is not drawn", built, failed)
	}
	if os.Getenv("SLIPWAY_REPORT_SHOT") != "" { // to look at it
		data, _ := os.ReadFile(shot)
		os.WriteFile(os.Getenv("SLIPWAY_REPORT_SHOT"), data, 0o644)
	}
}

func near(a, b [3]uint32) bool {
	for i := range a {
		if d := int(a[i]) - int(b[i]); d < -6 || d > 6 {
			return false
		}
	}
	return true
}
