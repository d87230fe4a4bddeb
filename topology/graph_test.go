package topology

import (
	"reflect"
	"testing"
)

// Mininet's tree,depth=2,fanout=2 plus a link s2-s3 that makes a loop.
func treeWithLoop(t *testing.T) Topology {
	t.Helper()
	topo, err := Parse([]byte(`{"nodes":{
	  "s1":{"agent":"10.0.0.1","ports":{"s1-eth1":{"ifindex":"11"},"s1-eth2":{"ifindex":"12"}}},
	  "s2":{"agent":"10.0.0.2","ports":{"s2-eth3":{"ifindex":"23"},"s2-eth4":{"ifindex":"24"}}},
	  "s3":{"agent":"10.0.0.3","ports":{"s3-eth3":{"ifindex":"33"},"s3-eth4":{"ifindex":"34"}}},
	  "s4":{"agent":"10.0.0.4","ports":{}}},
	 "links":{
	  "s1-s2":{"node1":"s1","port1":"s1-eth1","node2":"s2","port2":"s2-eth3"},
	  "s1-s3":{"node1":"s1","port1":"s1-eth2","node2":"s3","port2":"s3-eth3"},
	  "s2-s3":{"node1":"s2","port1":"s2-eth4","node2":"s3","port2":"s3-eth4"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func TestGraph(t *testing.T) {
	topo := treeWithLoop(t)
	check := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("NodeLinks(s2)", topo.NodeLinks("s2"), []string{"s1-s2", "s2-s3"})
	check("NodeLinks(s4)", topo.NodeLinks("s4"), []string{})
	ifs, _ := topo.LinkToInterfaces("s1-s3")
	check("LinkToInterfaces", ifs, []Interface{{"s1", "s1-eth2", "10.0.0.1", "12"}, {"s3", "s3-eth3", "10.0.0.3", "33"}})
	check("ShortestPath(s2,s3)", topo.ShortestPath("s2", "s3"), []string{"s2-s3"})
	check("ShortestPath(s1,s1)", topo.ShortestPath("s1", "s1"), []string{})
	check("ShortestPath(s1,s4)", topo.ShortestPath("s1", "s4"), []string(nil))
	check("ShortestPaths(s2,s3,5)", topo.ShortestPaths("s2", "s3", 5, 0), [][]string{{"s2-s3"}, {"s1-s2", "s1-s3"}})
	check("ShortestPaths(s2,s3,5,1)", topo.ShortestPaths("s2", "s3", 5, 1), [][]string{{"s2-s3"}})
	check("MinimumSpanningTree", topo.MinimumSpanningTree(), []string{"s1-s2", "s1-s3"})
	check("Diameter", topo.Diameter(), 1)
}
