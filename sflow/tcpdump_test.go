package sflow_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/flowrt/flowrt/internal/testdata"
	"github.com/flowrt/flowrt/sflow"
)

// tcpdump's own sFlow printer is a second, independent oracle: its golden
// .out files (from tcpdump's test suite) give datagram, sample and generic
// counter values for three of the captures.
var (
	reDatagram = regexp.MustCompile(`sFlowv5, IPv[46] agent (\S+), agent-id (\d+), seqnum (\d+), uptime (\d+), samples (\d+), length (\d+)`)
	reSample   = regexp.MustCompile(`(?:expanded )?(?:counter|flow) sample \((\d)\), length (\d+), seqnum (\d+), type (\d+), idx (\d+), records (\d+)`)
	reIfIndex  = regexp.MustCompile(`ifindex (\d+), iftype (\d+), ifspeed (\d+)`)
	reInOct    = regexp.MustCompile(`In octets (\d+), unicast pkts (\d+), multicast pkts (\d+), broadcast pkts (\d+), discards (\d+)`)
	reOutOct   = regexp.MustCompile(`Out octets (\d+), unicast pkts (\d+), multicast pkts (\d+), broadcast pkts (\d+), discards (\d+)`)
	reInvalid  = regexp.MustCompile(`sFlowv5 \[length (\d+) < 28\] \(invalid\)`)
)

func TestAgreesWithTcpdump(t *testing.T) {
	dir := testdata.Dir(t)
	checked := 0
	for _, name := range []string{"tcpdump_sflow_multiple_counter_30_pdus", "tcpdump_sflow-print-v6", "tcpdump_sflow_expanded", "tcpdump_sflow_print-segv"} {
		datagrams := testdata.ReadPcap(t, filepath.Join(dir, name+".pcap"))
		f, err := os.Open(filepath.Join(dir, name+".out"))
		if err != nil {
			t.Fatal(err)
		}
		var d sflow.Datagram
		var s *sflow.Sample
		var g sflow.GenericInterface
		frame, sample := -1, -1
		sc := bufio.NewScanner(f)
		expect := func(what string, got uint64, want string) {
			t.Helper()
			if strconv.FormatUint(got, 10) != want {
				t.Errorf("%s frame %d sample %d: %s = %d, tcpdump says %s", name, frame+1, sample+1, what, got, want)
			}
			checked++
		}
		for sc.Scan() {
			line := sc.Text()
			if m := reInvalid.FindStringSubmatch(line); m != nil {
				frame++
				if err := sflow.Decode(datagrams[frame].Payload, &d); err == nil {
					t.Errorf("%s frame %d: tcpdump calls it invalid, flowrt decoded it", name, frame+1)
				}
				checked++
				continue
			}
			if m := reDatagram.FindStringSubmatch(line); m != nil {
				// Frames that are not sFlow v5 are printed differently;
				// advance to the next datagram that decodes.
				for frame++; frame < len(datagrams); frame++ {
					if sflow.Decode(datagrams[frame].Payload, &d) == nil {
						break
					}
				}
				if frame >= len(datagrams) {
					t.Fatalf("%s: tcpdump has more sFlow datagrams than flowrt decodes", name)
				}
				sample = -1
				if d.Agent.String() != m[1] {
					t.Errorf("%s frame %d: agent %s, tcpdump %s", name, frame+1, d.Agent, m[1])
				}
				expect("agent-id", uint64(d.SubAgentID), m[2])
				expect("seqnum", uint64(d.Sequence), m[3])
				expect("uptime", uint64(d.Uptime), m[4])
				expect("samples", uint64(d.NumSamples), m[5])
				expect("length", uint64(len(datagrams[frame].Payload)), m[6])
				continue
			}
			if m := reSample.FindStringSubmatch(line); m != nil {
				sample++
				s = &d.Samples[sample]
				expect("sample type", uint64(s.Format), m[1])
				expect("sample length", uint64(len(s.Data)), m[2])
				expect("sample seqnum", uint64(s.Sequence), m[3])
				expect("source type", uint64(s.SourceClass), m[4])
				expect("source index", uint64(s.SourceIndex), m[5])
				expect("records", uint64(len(s.Records)), m[6])
				g = sflow.GenericInterface{}
				for _, r := range s.Records {
					if s.Format.IsCounter() && r.Format == 1 {
						if err := r.Decode(&g); err != nil {
							t.Fatal(err)
						}
					}
				}
				continue
			}
			if m := reIfIndex.FindStringSubmatch(line); m != nil {
				expect("ifindex", uint64(g.Index), m[1])
				expect("iftype", uint64(g.Type), m[2])
				expect("ifspeed", g.Speed, m[3])
			}
			if m := reInOct.FindStringSubmatch(line); m != nil {
				expect("in octets", g.InOctets, m[1])
				expect("in unicast", uint64(g.InUcastPkts), m[2])
				expect("in multicast", uint64(g.InMulticastPkts), m[3])
				expect("in broadcast", uint64(g.InBroadcastPkts), m[4])
				expect("in discards", uint64(g.InDiscards), m[5])
			}
			if m := reOutOct.FindStringSubmatch(line); m != nil {
				expect("out octets", g.OutOctets, m[1])
				expect("out unicast", uint64(g.OutUcastPkts), m[2])
				expect("out multicast", uint64(g.OutMulticastPkts), m[3])
				expect("out broadcast", uint64(g.OutBroadcastPkts), m[4])
				expect("out discards", uint64(g.OutDiscards), m[5])
			}
		}
		f.Close()
	}
	if checked < 1000 {
		t.Fatalf("only %d values compared with tcpdump's output", checked)
	}
	t.Logf("%d values agree with tcpdump's golden output", checked)
}
