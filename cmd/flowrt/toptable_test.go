package main_test

import (
	"encoding/json"
	"math"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var (
	topRow  = regexp.MustCompile(`(?s)<tr><td class="num">(\d+)</td>(.*?)</tr>`)
	topCell = regexp.MustCompile(`<td[^>]*>([^<]*)</td>`)
)

// TestTopFlowsTable follows the ICMP unreachable article: uports defined
// with its curl line, then its table, /activeflows/ALL/uports/html?
// maxFlows=20&aggMode=sum, read with curl. The table holds the JSON
// endpoint's answer to the same query: the same flows in the same order,
// and the same numbers — the traffic has stopped, so between the two
// requests every rate only decays, by one factor common to all of them.
// A browser shows the same table and reloads it.
func TestTopFlowsTable(t *testing.T) {
	need(t, "curl")
	e := startEngine(t)
	curl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("curl", append([]string{"-sS", "--fail-with-body"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	curl("-H", "Content-Type:application/json", "-X", "PUT", "--data", "{keys:'icmpunreachableport', value:'frames', t:20}", e.http+"/flow/uports/json")
	send(t, e.sflow, "-agents", "4", "-mix", "unreachable", "-rate", "400", "-duration", "3s", "-counters", "0")
	time.Sleep(300 * time.Millisecond) // the last datagrams applied

	var sumTop, maxTop float64
	for _, q := range []string{"?maxFlows=20&aggMode=sum", "?maxFlows=20", "?maxFlows=2&aggMode=sum", "?aggMode=sum&filter=udp_3000*"} {
		start := time.Now()
		page := curl(e.http + "/activeflows/ALL/uports/html" + q)
		var want []struct {
			Key, Agent, DataSource string
			Value                  float64
		}
		e.get(t, "/activeflows/ALL/uports/json"+q, &want)
		// The most the rates can have decayed between the two answers:
		// t=20 s smoothing over the time the two requests took.
		least := math.Exp(-time.Since(start).Seconds() / 20)
		rows := topRow.FindAllStringSubmatch(page, -1)
		if len(rows) != len(want) || len(want) == 0 {
			t.Fatalf("%s: %d rows in the table, %d in the JSON:\n%s", q, len(rows), len(want), page)
		}
		factor := 0.0
		for i, r := range rows {
			cells := topCell.FindAllStringSubmatch(r[2], -1)
			if r[1] != strconv.Itoa(i+1) || len(cells) != 4 || cells[0][1] != want[i].Key {
				t.Fatalf("%s row %d: %q, JSON %+v", q, i+1, r[0], want[i])
			}
			v, err := strconv.ParseFloat(cells[1][1], 64)
			if err != nil {
				t.Fatalf("%s row %d: value %q", q, i+1, cells[1][1])
			}
			if i == 0 {
				factor = want[0].Value / v
			}
			if math.Abs(want[i].Value/v-factor) > 1e-9 || factor > 1 || factor < least {
				t.Errorf("%s row %d: table %v, JSON %v (first row's factor %v, at least %v)", q, i+1, v, want[i].Value, factor, least)
			}
		}
		if strings.HasPrefix(q, "?aggMode=sum&filter=") {
			for _, w := range want {
				if !strings.HasPrefix(w.Key, "udp_3000") {
					t.Errorf("filter udp_3000* kept %s", w.Key)
				}
			}
		}
		switch q {
		case "?maxFlows=20&aggMode=sum":
			sumTop = want[0].Value
		case "?maxFlows=20":
			maxTop = want[0].Value
		}
	}
	// The article's aggMode=sum adds the agents that see a flow; the
	// default takes the largest one.
	if sumTop <= maxTop*1.5 {
		t.Errorf("top flow %v with aggMode=sum, %v with max: sum is not honoured", sumTop, maxTop)
	}
	t.Logf("top unreachable port: %.1f frames/s summed over the agents, %.1f at the busiest (×%.2f)", sumTop, maxTop, sumTop/maxTop)

	b := startBrowser(t, e)
	b.run("open the article's table", chromedp.Navigate(e.http+"/activeflows/ALL/uports/html?maxFlows=20&aggMode=sum"))
	b.waitCount("the navigation bar", "header nav a", 7)
	var want []json.RawMessage
	e.get(t, "/activeflows/ALL/uports/json?maxFlows=20&aggMode=sum", &want)
	if n := b.count("#activeflows tbody tr"); n != len(want) {
		t.Errorf("the browser shows %d rows, the JSON has %d", n, len(want))
	}
	first := b.attr("#query time", "datetime")
	waitFor(t, 6*time.Second, "the table reloaded", func() bool {
		at := b.attr("#query time", "datetime")
		return at != "" && at != first
	})
	b.noNull("the top flows table")
	b.shot("top-flows-table")
}
