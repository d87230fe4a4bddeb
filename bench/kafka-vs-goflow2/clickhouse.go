package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clickHouseRun measures the direct ClickHouse writer: flowrt with
// clickhouse.url pointing at Debian's clickhouse-server, started here in a
// temporary directory; rows stored and the CPU both processes spent on them.
func clickHouseRun(run int) error {
	dir, err := os.MkdirTemp("", "kvg-clickhouse")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	port := freePort("tcp")
	ch := exec.Command("clickhouse-server", "--config-file=/etc/clickhouse-server/config.xml", "--",
		"--path="+dir+"/data/", "--tmp_path="+dir+"/tmp/", "--user_files_path="+dir+"/uf/",
		"--format_schema_path="+dir+"/fs/", fmt.Sprintf("--http_port=%d", port), fmt.Sprintf("--tcp_port=%d", freePort("tcp")),
		fmt.Sprintf("--interserver_http_port=%d", freePort("tcp")), "--listen_host=127.0.0.1",
		"--logger.log="+dir+"/log", "--logger.errorlog="+dir+"/err", "--logger.console=0")
	if err := ch.Start(); err != nil {
		return fmt.Errorf("clickhouse-server (Debian package clickhouse-server): %w", err)
	}
	defer func() { ch.Process.Kill(); ch.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	query := func(q string) (string, error) {
		r, err := http.Get(base + "/?query=" + url.QueryEscape(q))
		if err != nil {
			return "", err
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != 200 {
			return "", fmt.Errorf("%s: %s", r.Status, b)
		}
		return strings.TrimSpace(string(b)), nil
	}
	up := false
	for range 300 {
		if _, err := query("SELECT 1"); err == nil {
			up = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !up {
		return fmt.Errorf("clickhouse-server did not answer in 30 s (log in %s)", dir)
	}
	e, err := startFlowrt("-Dclickhouse.url="+base, "-Dclickhouse.database=bench")
	if err != nil {
		return err
	}
	defer e.Stop()
	rows := func() int64 {
		s, err := query("SELECT count() FROM bench.flows")
		if err != nil {
			return -1
		}
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	time.Sleep(2 * time.Second)
	e0, _ := cpu(e.Cmd.Process.Pid)
	h0, _ := cpu(ch.Process.Pid)
	s, err := send(e.sflow)
	if err != nil {
		return err
	}
	settle(rows, int64(s.FlowSamples), 5*time.Second)
	e1, _ := cpu(e.Cmd.Process.Pid)
	h1, _ := cpu(ch.Process.Pid)
	n := rows()
	fmt.Printf("run %d clickhouse flow samples %7d rows %7d clickhouse-server cpu %6.2fs rows/s/core %8.0f flowrt cpu %6.2fs µs/sample %5.2f\n",
		run, s.FlowSamples, n, h1-h0, float64(n)/(h1-h0), e1-e0, (e1-e0)/float64(max(n, 1))*1e6)
	return nil
}
