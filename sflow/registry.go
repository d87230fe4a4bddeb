package sflow

import (
	"fmt"
	"reflect"
	"unsafe"
)

// The flow and counter record namespaces overlap (0:1 is a sampled header in
// a flow sample and generic interface counters in a counter sample), so each
// has its own table.
var (
	flowTypes    = map[DataFormat]reflect.Type{}
	counterTypes = map[DataFormat]reflect.Type{}
	formatOf     = map[reflect.Type]DataFormat{}
	// registeredPlans is read without locking on every record decode; it
	// is written only during init.
	registeredPlans = map[reflect.Type]*plan{}
)

func register[T any](table map[DataFormat]reflect.Type, f DataFormat) {
	t := reflect.TypeFor[T]()
	table[f] = t
	formatOf[t] = f
	registeredPlans[t] = planFor(t)
}

func init() {
	fl := flowTypes
	register[SampledHeader](fl, 1)
	register[SampledEthernet](fl, 2)
	register[SampledIPv4](fl, 3)
	register[SampledIPv6](fl, 4)
	register[ExtendedSwitch](fl, 1001)
	register[ExtendedRouter](fl, 1002)
	register[ExtendedGateway](fl, 1003)
	register[ExtendedUser](fl, 1004)
	register[ExtendedURL](fl, 1005)
	register[ExtendedMPLS](fl, 1006)
	register[ExtendedNAT](fl, 1007)
	register[ExtendedMPLSTunnel](fl, 1008)
	register[ExtendedMPLSVC](fl, 1009)
	register[ExtendedMPLSFTN](fl, 1010)
	register[ExtendedMPLSLDPFEC](fl, 1011)
	register[ExtendedVLANTunnel](fl, 1012)
	register[Extended80211Payload](fl, 1013)
	register[Extended80211RX](fl, 1014)
	register[Extended80211TX](fl, 1015)
	register[ExtendedNATPort](fl, 1020)
	register[ExtendedL2TunnelOut](fl, 1021)
	register[ExtendedL2TunnelIn](fl, 1022)
	register[ExtendedIPv4TunnelOut](fl, 1023)
	register[ExtendedIPv4TunnelIn](fl, 1024)
	register[ExtendedIPv6TunnelOut](fl, 1025)
	register[ExtendedIPv6TunnelIn](fl, 1026)
	register[ExtendedDecapOut](fl, 1027)
	register[ExtendedDecapIn](fl, 1028)
	register[ExtendedVNIOut](fl, 1029)
	register[ExtendedVNIIn](fl, 1030)
	register[ExtendedEgressQueue](fl, 1036)
	register[ExtendedACL](fl, 1037)
	register[ExtendedFunction](fl, 1038)
	register[ExtendedTransitDelay](fl, 1039)
	register[ExtendedQueueDepth](fl, 1040)
	register[ExtendedHardwareTrap](fl, 1041)
	register[ExtendedLinuxReason](fl, 1042)
	register[ExtendedTimestamp](fl, 1043)
	register[ExtendedSocketIPv4](fl, 2100)
	register[ExtendedSocketIPv6](fl, 2101)
	register[ExtendedProxySocketIPv4](fl, 2102)
	register[ExtendedProxySocketIPv6](fl, 2103)
	register[MemcacheOperation](fl, 2200)
	register[HTTPRequest](fl, 2201)
	register[AppOperation](fl, 2202)
	register[AppParentContext](fl, 2203)
	register[AppInitiator](fl, 2204)
	register[AppTarget](fl, 2205)
	register[HTTPRequest2](fl, 2206)
	register[ExtendedTCPInfo](fl, 2209)
	register[ExtendedEntities](fl, 2210)

	ct := counterTypes
	register[GenericInterface](ct, 1)
	register[EthernetInterface](ct, 2)
	register[TokenRing](ct, 3)
	register[VG](ct, 4)
	register[VLAN](ct, 5)
	register[IEEE80211](ct, 6)
	register[LAGPort](ct, 7)
	register[SFP](ct, 10)
	register[Processor](ct, 1001)
	register[Radio](ct, 1002)
	register[OpenFlowPort](ct, 1004)
	register[PortName](ct, 1005)
	register[HostDescr](ct, 2000)
	register[HostAdapters](ct, 2001)
	register[HostParent](ct, 2002)
	register[HostCPU](ct, 2003)
	register[HostMemory](ct, 2004)
	register[HostDisk](ct, 2005)
	register[HostNetIO](ct, 2006)
	register[MIB2IP](ct, 2007)
	register[MIB2ICMP](ct, 2008)
	register[MIB2TCP](ct, 2009)
	register[MIB2UDP](ct, 2010)
	register[VirtNode](ct, 2100)
	register[VirtCPU](ct, 2101)
	register[VirtMemory](ct, 2102)
	register[VirtDisk](ct, 2103)
	register[VirtNetIO](ct, 2104)
	register[JVMRuntime](ct, 2105)
	register[JVMStatistics](ct, 2106)
	register[MemcacheCounters](ct, 2200)
	register[HTTPCounters](ct, 2201)
	register[AppCounters](ct, 2202)
	register[AppResources](ct, 2203)
	register[MemcacheCounters2](ct, 2204)
	register[VDI](ct, 2205)
	register[AppWorkers](ct, 2206)
	register[OVSDatapath](ct, 2207)
	register[NVIDIAGPU](ct, Tag(5703, 1))
	register[BroadcomTables](ct, Tag(4413, 3))
}

// NewFlowRecord returns a pointer to a new zero value of the structure for
// flow record format f, or nil if f is not a known flow record.
func NewFlowRecord(f DataFormat) any { return newRecord(flowTypes, f) }

// NewCounterRecord is NewFlowRecord for counter records.
func NewCounterRecord(f DataFormat) any { return newRecord(counterTypes, f) }

func newRecord(table map[DataFormat]reflect.Type, f DataFormat) any {
	t, ok := table[f]
	if !ok {
		return nil
	}
	return reflect.New(t).Interface()
}

// FormatOf returns the data format of a record structure (a pointer to one
// of the record types of this package).
func FormatOf(v any) (DataFormat, bool) {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return 0, false
	}
	f, ok := formatOf[t.Elem()]
	return f, ok
}

// Decode decodes the record's body into v, a pointer to the record structure
// matching its format (see NewFlowRecord). Strings and byte fields alias the
// datagram. v is reused as is: slices keep their capacity.
func (rec Record) Decode(v any) error {
	p, ptr, err := planOf(v)
	if err != nil {
		return err
	}
	r := reader{b: rec.Data}
	p.decode(&r, ptr)
	if r.err != nil {
		return r.err.(*Error).at(rec.Offset, 0, 0, rec.Format)
	}
	// A record longer than its structure is a newer revision of it; the
	// fields we know are still right, so trailing bytes are not an error.
	return nil
}

// planOf returns the plan for v, a non-nil pointer to a struct, and the
// struct's address.
func planOf(v any) (*plan, unsafe.Pointer, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, nil, fmt.Errorf("sflow: a record must be a non-nil pointer to a struct, got %T", v)
	}
	t := rv.Type().Elem()
	p, ok := registeredPlans[t]
	if !ok {
		p = planFor(t)
	}
	return p, rv.UnsafePointer(), nil
}
