package metric

import (
	"reflect"
	"strings"

	"github.com/flowrt/flowrt/sflow"
)

// The structures below become metrics by one rule: each field's sflowtool
// name, lowercased and given the structure's family prefix (jvm_heap_mem_used,
// ovs_dp_hits, memcache_get_hits); numbers are per-second rates unless the
// field is a level (listed as a gauge); byte strings are string metrics.
type genericSpec struct {
	v      any
	prefix string
	gauges string // space-separated sflowtool names of the fields that are levels
}

var genericSpecs = []genericSpec{
	{sflow.TokenRing{}, "", ""},
	{sflow.VG{}, "", ""},
	{sflow.VLAN{}, "vlan_", "in_vlan"},
	{sflow.IEEE80211{}, "", "dot11AssociatedStationCount"},
	{sflow.Radio{}, "", ""},
	{sflow.JVMStatistics{}, "jvm_", "heap_mem_initial heap_mem_used heap_mem_committed heap_mem_max non_heap_mem_initial " +
		"non_heap_mem_used non_heap_mem_committed non_heap_mem_max classes_loaded threads_live threads_daemon fds_open fds_max"},
	{sflow.MemcacheCounters{}, "", "memcache_uptime memcache_curr_connections memcache_connection_structures " +
		"memcache_limit_maxbytes memcache_accepting_conns memcache_threads memcache_bytes memcache_curr_items"},
	{sflow.MemcacheCounters2{}, "", "memcache_curr_connections memcache_connection_structures memcache_limit_maxbytes " +
		"memcache_threads memcache_bytes memcache_curr_items"},
	{sflow.HTTPCounters{}, "", ""},
	{sflow.AppCounters{}, "app_", ""},
	{sflow.AppResources{}, "app_", "memory_used memory_max files_open files_max connections_open connections_max"},
	{sflow.VDI{}, "", "vdi_sessions_current vdi_rtt_min_ms vdi_rtt_max_ms vdi_rtt_avg_ms vdi_audio_tx_limit " +
		"vdi_img_qual_min vdi_img_qual_max vdi_img_qual_avg"},
	{sflow.AppWorkers{}, "app_", "workers_active workers_idle workers_max"},
	{sflow.OVSDatapath{}, "", "OVS_dp_flows OVS_dp_masks"},
	{sflow.NVIDIAGPU{}, "", "nvml_device_count nvml_processes nvml_mem_bytes_total nvml_mem_bytes_free " +
		"nvml_temperature_C nvml_fan_speed_pc"},
	{sflow.BroadcomTables{}, "", "*"},
}

type genericField struct {
	index int
	name  string
	kind  byte // 'g' gauge, 'c' counter, 's' string
}

var genericPlans = map[reflect.Type][]genericField{}

func init() {
	for _, g := range genericSpecs {
		t := reflect.TypeOf(g.v)
		gauges := strings.Fields(g.gauges)
		var plan []genericField
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("sflowtool"), ",")
			if tag == "" {
				continue
			}
			name := strings.ToLower(g.prefix + tag)
			if g.prefix != "" && strings.HasPrefix(strings.ToLower(tag), g.prefix) {
				name = strings.ToLower(tag)
			}
			kind := byte('c')
			switch {
			case f.Type == reflect.TypeOf([]byte(nil)):
				kind = 's'
			case f.Type.Kind() != reflect.Uint32 && f.Type.Kind() != reflect.Uint64:
				continue
			case g.gauges == "*" || contains(gauges, tag):
				kind = 'g'
			}
			plan = append(plan, genericField{i, name, kind})
		}
		genericPlans[t] = plan
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// applyGeneric applies a structure of genericSpecs; false for others.
func (s *Set) applyGeneric(rec any) bool {
	v := reflect.ValueOf(rec)
	if v.Kind() != reflect.Pointer {
		return false
	}
	v = v.Elem()
	plan, ok := genericPlans[v.Type()]
	if !ok {
		return false
	}
	for _, f := range plan {
		fv := v.Field(f.index)
		switch f.kind {
		case 's':
			s.String(f.name, fv.Bytes())
		case 'g':
			s.Gauge(f.name, float64(fv.Uint()))
		default:
			if fv.Kind() == reflect.Uint64 {
				s.Counter64(f.name, fv.Uint())
			} else {
				s.Counter32(f.name, uint32(fv.Uint()))
			}
		}
	}
	return true
}
