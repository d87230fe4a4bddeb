package metric

import (
	"strings"

	"github.com/flowrt/flowrt/sflow"
)

// Host sFlow reports each virtual machine and container as a logical
// entity (data source class 3) with its own host_descr. Its hostname is
// what InMon's sunburst and browse-metrics pages read as vir_host_name,
// and, for containers, what their process view breaks out by kind. The
// kind is in the name, as hsflowd's modules write it:
//
//	k8s_<container>_<pod>_<namespace>_<uid>_<attempt>   mod_k8s and kubelet's docker names
//	<unit>.service                                      mod_systemd
//	<service>.<slot or node>.<25-character task id>     Docker Swarm task containers
//	<name> or <name>.<short id>                         mod_docker
//
// Containers describe themselves with os_name linux; hypervisors' virtual
// machines (mod_kvm, mod_xen) with unknown, and get vir_host_name only.

// Logical says whether the sample being applied is a logical entity's
// (data source class 3): a virtual machine or container.
func (s *Set) Logical(on bool) { s.logical = on }

// virtualHost sets vir_host_name and the container names from a logical
// entity's host_descr.
func (s *Set) virtualHost(r *sflow.HostDescr) {
	s.String("vir_host_name", r.Hostname)
	if r.OSName != 2 { // not linux: a hypervisor's virtual machine
		return
	}
	name := string(r.Hostname)
	if rest, ok := strings.CutPrefix(name, "k8s_"); ok {
		if parts := strings.Split(rest, "_"); len(parts) >= 3 && parts[2] != "" {
			s.Text("k8s_namespace", parts[2])
			s.Text("k8s_name", parts[1])
			return
		}
	}
	if strings.HasSuffix(name, ".service") {
		s.Text("systemd_service", name)
		return
	}
	if svc, ok := swarmService(name); ok {
		s.Text("swarm_name", svc)
		return
	}
	s.Text("docker_name", name)
}

// swarmService is the service of a Swarm task container's name.
func swarmService(name string) (string, bool) {
	last := strings.LastIndexByte(name, '.')
	if last < 0 || len(name)-last-1 != 25 {
		return "", false
	}
	for _, c := range name[last+1:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "", false
		}
	}
	mid := strings.LastIndexByte(name[:last], '.')
	if mid <= 0 || mid == last-1 {
		return "", false
	}
	return name[:mid], true
}

// bcmUtilizations are the Broadcom ASIC tables' fill, as percentages, by
// the names active-routes reads: bcm_<table>_utilization.
func (s *Set) bcmUtilizations(r *sflow.BroadcomTables) {
	for _, u := range [...]struct {
		name     string
		used, of uint32
	}{
		{"bcm_host_utilization", r.HostEntries, r.HostEntriesMax},
		{"bcm_mac_utilization", r.MACEntries, r.MACEntriesMax},
		{"bcm_ipv4_utilization", r.IPv4Entries, r.IPv4EntriesMax},
		{"bcm_ipv6_utilization", r.IPv6Entries, r.IPv6EntriesMax},
		{"bcm_ipv4_ipv6_utilization", r.IPv4IPv6Entries, r.IPv4IPv6EntriesMax},
		{"bcm_long_ipv6_utilization", r.LongIPv6Entries, r.LongIPv6EntriesMax},
		{"bcm_total_routes_utilization", r.TotalRoutes, r.TotalRoutesMax},
		{"bcm_ecmp_nexthops_utilization", r.ECMPNexthops, r.ECMPNexthopsMax},
		{"bcm_acl_ingress_utilization", r.ACLIngressEntries, r.ACLIngressEntriesMax},
		{"bcm_acl_ingress_meters_utilization", r.ACLIngressMeters, r.ACLIngressMetersMax},
		{"bcm_acl_ingress_counters_utilization", r.ACLIngressCounters, r.ACLIngressCountersMax},
		{"bcm_acl_egress_utilization", r.ACLEgressEntries, r.ACLEgressEntriesMax},
		{"bcm_acl_egress_meters_utilization", r.ACLEgressMeters, r.ACLEgressMetersMax},
		{"bcm_acl_egress_counters_utilization", r.ACLEgressCounters, r.ACLEgressCountersMax},
	} {
		if u.of > 0 { // a table the ASIC does not have reports a maximum of 0
			s.Gauge(u.name, 100*float64(u.used)/float64(u.of))
		}
	}
}
