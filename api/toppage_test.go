package api

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	rowRE  = regexp.MustCompile(`(?s)<tr><td class="num">(\d+)</td>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`<td[^>]*>([^<]*)</td>`)
	headRE = regexp.MustCompile(`<th>([^<]*)</th>`)
)

// topRows reads the table of /activeflows/…/html as curl would show it:
// per row, its cells after the rank.
func topRows(t *testing.T, html string) (head []string, rows [][]string) {
	t.Helper()
	for _, m := range headRE.FindAllStringSubmatch(html, -1) {
		head = append(head, m[1])
	}
	for i, m := range rowRE.FindAllStringSubmatch(html, -1) {
		if m[1] != strconv.Itoa(i+1) {
			t.Errorf("row %d is ranked %s", i+1, m[1])
		}
		var cells []string
		for _, c := range cellRE.FindAllStringSubmatch(m[2], -1) {
			cells = append(cells, c[1])
		}
		rows = append(rows, cells)
	}
	return head, rows
}

// TestTopFlowsPage: the html table answers the same query as the JSON
// endpoint, with the same numbers, for every query parameter (the API's
// clock stands still, so both are computed at the same instant).
func TestTopFlowsPage(t *testing.T) {
	srv := testServer(t, false)
	for _, q := range []string{"", "?maxFlows=20&aggMode=sum", "?maxFlows=5", "?aggMode=avg&minValue=3000",
		"?filter=10.0.0.1*", "?filter=*,192.168.0.2*&maxFlows=3&aggMode=sum"} {
		for _, agent := range []string{"ALL", "10.255.0.2"} {
			_, page := call(t, srv, "GET", "/activeflows/"+agent+"/pairs/html"+q, "")
			_, body := call(t, srv, "GET", "/activeflows/"+agent+"/pairs/json"+q, "")
			var want []struct {
				Key, Agent, DataSource string
				Value                  float64
			}
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			head, rows := topRows(t, page)
			if strings.Join(head, "|") != "#|ipsource|ipdestination|bytes/s|agent|data source" {
				t.Errorf("%s%s: columns %q", agent, q, head)
			}
			if len(rows) != len(want) || len(want) == 0 {
				t.Fatalf("%s%s: %d rows, JSON has %d", agent, q, len(rows), len(want))
			}
			for i, w := range want {
				raw, _ := json.Marshal(w.Value)
				got := strings.Join(rows[i], "|")
				if exp := strings.ReplaceAll(w.Key, ",", "|") + "|" + string(raw) + "|" + w.Agent + "|" + w.DataSource; got != exp {
					t.Errorf("%s%s row %d: %s, JSON %s", agent, q, i+1, got, exp)
				}
			}
		}
	}
	// sum adds the data sources that see a flow, max takes the largest:
	// the article's aggMode=sum is not the default's numbers.
	_, sum := call(t, srv, "GET", "/activeflows/ALL/pairs/html?maxFlows=20&aggMode=sum", "")
	_, maxPage := call(t, srv, "GET", "/activeflows/ALL/pairs/html?maxFlows=20", "")
	_, a := topRows(t, sum)
	_, b := topRows(t, maxPage)
	if strings.Join(a[0], "|") == strings.Join(b[0], "|") {
		t.Errorf("aggMode=sum shows the max numbers: %v", a[0])
	}
	for _, c := range []struct {
		path   string
		status int
		text   string
	}{
		{"/activeflows/ALL/pairs/html?maxFlows=x", 400, `maxFlows="x"`},
		{"/activeflows/ALL/pairs/html?aggMode=most", 400, "aggMode"},
		{"/activeflows/ALL/nope/html", 404, "no flow definition"},
		{"/activeflows/ALL/pairs/html?filter=nothing*", 200, `id="no-flows"`},
		{"/activeflows/ALL/total/html", 200, "<th>#</th><th>frames/s</th>"},
		{"/activeflows/ALL/proto/html?aggMode=sum", 200, "<th>ipprotocol</th><th>frames/s</th><th>bytes/s</th>"},
	} {
		status, body := call(t, srv, "GET", c.path, "")
		if status != c.status || !strings.Contains(body, c.text) {
			t.Errorf("%s: %d, want %d with %q: %.400s", c.path, status, c.status, c.text, body)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{
		{"*", "", true}, {"*", "a,b", true}, {"10.0.0.1*", "10.0.0.12,1.2.3.4", true}, {"10.0.0.1*", "10.0.1.1", false},
		{"*,192.168.0.2", "10.0.0.1,192.168.0.2", true}, {"*,192.168.0.2", "10.0.0.1,192.168.0.20", false},
		{"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false}, {"10.0.0.0/24", "10.0.0.0/24", true}, {"[a]", "[a]", true},
	} {
		if got := globMatch(c.p, c.s); got != c.ok {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}
