package web

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
)

// Built without npm, a page that loads jquery from /inc/ tells the user on
// the page what is missing and how to get it (checked in Chromium).
func TestIncMissingShownOnPage(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("needs Debian's chromium (apt-get install chromium)")
	}
	fsys := fstest.MapFS{}
	fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(files, p)
			fsys[p] = &fstest.MapFile{Data: b}
		}
		return nil
	}) // flowrt's own files, and no dist/: a build without npm
	m := http.NewServeMux()
	m.Handle("GET /inc/", incHandler(fsys))
	m.HandleFunc("GET /app/demo/html/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<!doctype html><html><head><script src="../../../inc/jquery.min.js"></script></head><body><h1>demo</h1></body></html>`))
	})
	srv := httptest.NewServer(m)
	defer srv.Close()

	// The flags of cmd/flowrt's browser tests: no background networking or
	// component updates (there is no Internet here, and a busy machine's
	// Chromium took over 30 s to start while trying), and the browser is
	// started before the page's own 30 s begin.
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath("/usr/bin/chromium"), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/app/demo/html/"), chromedp.WaitVisible(chromedp.CSS(".flowrt-missing-asset"))); err != nil {
		t.Fatalf("no message on the page: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.flowrt-missing-asset').textContent`))
	if err != nil || text != "flowrt was built without the npm package jquery, so /inc/jquery.min.js is missing: run scripts/assets (needs npm) and rebuild flowrt" {
		t.Errorf("the page says %q (%v)", text, err)
	}
	if h1, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('h1').textContent`)); !strings.Contains(h1, "demo") {
		t.Errorf("the page's own content is gone: %q", h1)
	}
}
