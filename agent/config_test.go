package agent

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	// The seeds' files, as printed (with the address the systemd one lost).
	docker := `sflow {
  collector { ip=10.0.0.70 }
  docker { }
  pcap { dev=docker0 }
  pcap { dev=docker_gwbridge } 
}`
	c, err := ParseConfig(strings.NewReader(docker), "hsflowd.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Collectors = []Collector{{netip.MustParseAddrPort("10.0.0.70:6343")}}
	want.Docker = true
	want.Devices = []Device{{Name: "docker0"}, {Name: "docker_gwbridge"}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("docker article:\n got %+v\nwant %+v", c, want)
	}
	k8s := `sflow {
  collector { ip=10.0.0.70 }
  k8s { markTraffic=on containerdState=/run/k3s/containerd }
  containerd { crioRunroot=/var/run/containers/storage }
}`
	if c, err = ParseConfig(strings.NewReader(k8s), "hsflowd.conf"); err != nil || !c.Docker || len(c.Unsupported) != 0 ||
		!reflect.DeepEqual(c.ContainerdState, []string{"/run/k3s/containerd"}) || !reflect.DeepEqual(c.CRIORunroot, []string{"/var/run/containers/storage"}) {
		t.Errorf("k8s { } and containerd { }: %+v %v", c, err)
	}
	systemd := `sflow {
  collector { ip = 10.0.0.1 }
  pcap { dev = eth0 }
  systemd { markTraffic = on }
  tcp { }
}`
	if c, err = ParseConfig(strings.NewReader(systemd), "hsflowd.conf"); err != nil || len(c.Devices) != 1 || c.Devices[0].Name != "eth0" {
		t.Errorf("systemd article: %+v %v", c, err)
	}
	full := `# every setting
sflow {
  polling=10 sampling=500 headerBytes=64 agentIP=192.0.2.9   # several on a line
  collector { ip=192.0.2.1 udpport=6344 }
  collector { ip=2001:db8::1 }
  pcap { dev=eth1 sampling=50 }
}`
	if c, err = ParseConfig(strings.NewReader(full), "f"); err != nil {
		t.Fatal(err)
	}
	if c.Polling != 10*time.Second || c.Sampling != 500 || c.HeaderBytes != 64 || c.AgentIP != netip.MustParseAddr("192.0.2.9") ||
		len(c.Collectors) != 2 || c.Collectors[1].Addr.String() != "[2001:db8::1]:6343" || c.Devices[0].Sampling != 50 {
		t.Errorf("full: %+v", c)
	}
}

func TestApplyEnv(t *testing.T) {
	c := DefaultConfig()
	env := map[string]string{"COLLECTOR": "10.0.0.70 10.0.0.71:6400", "SAMPLING": "1000", "POLLING": "5", "NET": "host"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }, func() []string { return []string{"eth0", "docker0"} }); err != nil {
		t.Fatal(err)
	}
	if len(c.Collectors) != 2 || c.Collectors[1].Addr.Port() != 6400 || c.Sampling != 1000 || c.Polling != 5*time.Second ||
		len(c.Devices) != 2 || c.Devices[1].Name != "docker0" {
		t.Errorf("%+v", c)
	}
	env = map[string]string{"COLLECTOR": "nowhere"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }, nil); err == nil || !strings.Contains(err.Error(), "COLLECTOR") {
		t.Errorf("bad COLLECTOR: %v", err)
	}
}

func TestDefaultSampling(t *testing.T) {
	for speed, want := range map[uint64]uint32{0: 400, 10: 100, 100: 100, 1000: 1000, 10000: 10000, 40000: 40000} {
		if got := DefaultSampling(speed); got != want {
			t.Errorf("DefaultSampling(%d Mb/s) = %d, want %d", speed, got, want)
		}
	}
}

func TestSamplingProgram(t *testing.T) {
	// The program the kernel runs: random, modulo N, keep on 0.
	p := samplingProgram(1000, 128)
	if len(p) != 5 || p[0].K != 0xfffff000+56 || p[1].K != 1000 || p[3].K != 128 || p[4].K != 0 {
		t.Errorf("%+v", p)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"sflow { collector { ip=10.0.0.1 } }", "sflow {\n pcap { dev=eth0 }\n docker { }\n}", "sflow { x { y { z=1 } } }", "{", "sflow"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseConfig(strings.NewReader(s), "fuzz")
		if err == nil && c.Polling <= 0 {
			t.Errorf("accepted %q with polling %v", s, c.Polling)
		}
	})
}
