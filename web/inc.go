package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
)

// /inc/ holds the shared page assets that application pages written for
// sFlow-RT load as ../../../inc/… (InMon's apps, unmodified). Three kinds:
//
//   - flowrt's own widgets and styles (static/inc: jquery.widget.js,
//     jquery.stripchart.js, stripchart.js, jquery.gauge.js and their CSS),
//     written from how the pages call them;
//   - open-source libraries from npm at the versions those pages are
//     written for (dist/inc, copied by scripts/assets, never committed);
//   - images drawn here: flowrt's icon stands in for the logo and favicon
//     the pages show, and the DataTables row open/close marks.
//
// A library path asked for in a build without npm is answered with what is
// missing and how to get it: a script that says so on the page and in the
// console (a .js), or a 404 naming it, never a bare 404.

// IncLibraries names, per /inc/ path (or directory prefix ending in /), the
// npm package scripts/assets copies it from.
var IncLibraries = map[string]string{
	"jquery.min.js":           "jquery",
	"popper.min.js":           "popper.js",
	"bootstrap.min.js":        "bootstrap",
	"bootstrap.min.css":       "bootstrap",
	"jquery-ui/":              "jquery-ui-dist",
	"DataTables/js/":          "datatables.net and datatables.net-jqui",
	"DataTables/css/":         "datatables.net-jqui",
	"DataTables/images/sort_": "datatables.net-jqui",
}

// incLibrary is the npm package a missing /inc/ path comes from ("" if none).
func incLibrary(p string) string {
	if lib, ok := IncLibraries[p]; ok {
		return lib
	}
	for prefix, lib := range IncLibraries {
		if strings.HasSuffix(prefix, "/") || strings.HasSuffix(prefix, "_") {
			if strings.HasPrefix(p, prefix) {
				return lib
			}
		}
	}
	return ""
}

// IncMissing lists the npm packages the embedded /inc/ lacks (a build
// without scripts/assets), sorted; empty when all are there.
func IncMissing() []string { return incMissing(files) }

func incMissing(fsys fs.FS) []string {
	seen := map[string]bool{}
	for p, lib := range IncLibraries {
		if strings.HasSuffix(p, "/") || strings.HasSuffix(p, "_") {
			matches, _ := fs.Glob(fsys, "dist/inc/"+p+"*")
			if len(matches) == 0 {
				seen[lib] = true
			}
			continue
		}
		if _, err := fs.Stat(fsys, "dist/inc/"+p); err != nil {
			seen[lib] = true
		}
	}
	var out []string
	for lib := range seen {
		out = append(out, lib)
	}
	sort.Strings(out)
	return out
}

// incHandler serves /inc/ from fsys (the embedded files, or another tree in
// tests): static/inc first, then dist/inc, then the drawn images.
func incHandler(fsys fs.FS) http.Handler {
	icon, _ := fs.ReadFile(fsys, "static/favicon.svg")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/inc/")
		if p == "" || strings.HasSuffix(p, "/") || path.Clean("/"+p) != "/"+p {
			http.Error(w, "no such asset: /inc/"+p, http.StatusNotFound)
			return
		}
		w.Header().Set("Cache-Control", "max-age=3600")
		for _, dir := range []string{"static/inc/", "dist/inc/"} {
			if st, err := fs.Stat(fsys, dir+p); err == nil && !st.IsDir() {
				http.ServeFileFS(w, r, fsys, dir+p)
				return
			}
		}
		switch p {
		case "img/inmon.svg": // the pages' navbar logo: flowrt's icon
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Write(icon)
			return
		case "img/favicon.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(drawn("favicon"))
			return
		case "DataTables/images/details_open.png", "DataTables/images/details_close.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(drawn(strings.TrimSuffix(path.Base(p), ".png")))
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		lib := incLibrary(p)
		if lib == "" {
			http.Error(w, "no such asset: /inc/"+p+" (flowrt serves sFlow-RT's shared page libraries and its own stripchart, widget and gauge widgets; not this one)", http.StatusNotFound)
			return
		}
		msg := fmt.Sprintf("flowrt was built without the npm package %s, so /inc/%s is missing: run scripts/assets (needs npm) and rebuild flowrt", lib, p)
		if strings.HasSuffix(p, ".js") {
			// A script answered 404 is dropped by the browser without a
			// word on the page; this one says what is missing, there.
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Header().Set("X-Flowrt-Missing", lib)
			fmt.Fprintf(w, missingScript, jsString(msg))
			return
		}
		http.Error(w, msg, http.StatusNotFound)
	})
}

const missingScript = `(function(msg) {
  console.error(msg);
  function show() {
    var d = document.createElement('div');
    d.className = 'flowrt-missing-asset';
    d.setAttribute('role', 'alert');
    d.style.cssText = 'background:#fff3cd;color:#533f03;border:1px solid #e0c36a;padding:8px 12px;font:14px sans-serif';
    d.textContent = msg;
    document.body.insertBefore(d, document.body.firstChild);
  }
  if (document.body) show(); else document.addEventListener('DOMContentLoaded', show);
})(%s);
`

func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '<':
			b.WriteString(`\u003c`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var drawnOnce sync.Map

// drawn returns one of the small images flowrt draws itself, as PNG.
func drawn(name string) []byte {
	if b, ok := drawnOnce.Load(name); ok {
		return b.([]byte)
	}
	var img *image.RGBA
	navy := color.RGBA{0x10, 0x2a, 0x43, 0xff}
	switch name {
	case "favicon": // flowrt's icon: three bars, largest first
		img = image.NewRGBA(image.Rect(0, 0, 32, 32))
		fill(img, 0, 0, 32, 32, navy)
		fill(img, 6, 7, 26, 11, color.RGBA{0x4f, 0xc3, 0xf7, 0xff})
		fill(img, 6, 14, 20, 18, color.RGBA{0x81, 0xc7, 0x84, 0xff})
		fill(img, 6, 21, 14, 25, color.RGBA{0xff, 0xb7, 0x4d, 0xff})
	default: // details_open (+) and details_close (−): row expand marks
		img = image.NewRGBA(image.Rect(0, 0, 16, 16))
		c := color.RGBA{0x28, 0xa7, 0x45, 0xff}
		if name == "details_close" {
			c = color.RGBA{0xdc, 0x35, 0x45, 0xff}
		}
		fill(img, 1, 1, 15, 15, c)
		fill(img, 4, 7, 12, 9, color.RGBA{0xff, 0xff, 0xff, 0xff})
		if name == "details_open" {
			fill(img, 7, 4, 9, 12, color.RGBA{0xff, 0xff, 0xff, 0xff})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	drawnOnce.Store(name, buf.Bytes())
	return buf.Bytes()
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}
