package web

import "net/http"

// sFlow-RT's distribution UI lived under /html/ (its "/" redirected to
// ./html/index.html, with tabs Status, Apps, API, License and About as
// #fragments). Bookmarks and scripts that open those paths reach flowrt's
// own pages instead: the browser keeps the #fragment across the redirect,
// and flowrt's pages ignore one they do not know.
var distributionPages = map[string]string{
	"":           "/",
	"index.html": "/",
	"api.html":   "/api/",
}

func distributionPage(w http.ResponseWriter, r *http.Request) {
	to, ok := distributionPages[r.PathValue("page")]
	if !ok {
		http.Error(w, "no page /html/"+r.PathValue("page")+": sFlow-RT's distribution UI is replaced by flowrt's interface at / (applications' pages are at /app/<name>/html/)", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}
