package engine

import "github.com/flowrt/flowrt/sflow"

// flowSource is the data source a flow sample's flows are counted under.
// A sampler that is an entity rather than a port (Open vSwitch samples a
// whole bridge, as entPhysicalEntry 1000+n) still says which port each
// packet came in on: its flows go to that port's ifIndex data source, as
// sFlow-RT counts them, so that a threshold event's dataSource is the
// ifIndex the topology names (ryu.js: topologyInterfaceToPort(evt.agent,
// evt.dataSource)) and direction=ingress holds. The sampler keeps its own
// sequence numbers and sampling pool (Worker.sample). Without a single
// input port (unknown, internal) the sampler's own data source is kept.
func (a *Agent) flowSource(ds *source, smp *sflow.Sample, ms int64) *source {
	if smp.SourceClass != 2 {
		return ds
	}
	in, ok := smp.Input.IfIndex()
	if !ok || in == 0 {
		return ds
	}
	if p := a.source(0, in, ms); p != nil {
		return p
	}
	return ds
}
