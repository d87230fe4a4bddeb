package topology

import (
	"maps"
	"slices"
)

// The graph functions treat the topology as an undirected graph of nodes
// joined by links, every link of length one, as sFlow-RT's do. Results are
// deterministic: ties break by link name.

type edge struct{ link, to string }

func (t Topology) adjacency() map[string][]edge {
	adj := map[string][]edge{}
	for _, name := range slices.Sorted(maps.Keys(t.Links)) {
		l := t.Links[name]
		adj[l.Node1] = append(adj[l.Node1], edge{name, l.Node2})
		adj[l.Node2] = append(adj[l.Node2], edge{name, l.Node1})
	}
	return adj
}

// NodeLinks lists the links attached to a node.
func (t Topology) NodeLinks(node string) []string {
	out := []string{}
	for _, e := range t.adjacency()[node] {
		out = append(out, e.link)
	}
	return out
}

// Interface is one end of a link as an agent sees it.
type Interface struct {
	Node    string `json:"node"`
	Port    string `json:"port"`
	Agent   string `json:"agent,omitempty"`
	IfIndex string `json:"ifindex,omitempty"`
}

// LinkToInterfaces returns the interfaces at both ends of a link.
func (t Topology) LinkToInterfaces(link string) ([]Interface, bool) {
	l, ok := t.Links[link]
	if !ok {
		return nil, false
	}
	end := func(node, port string) Interface {
		n := t.Nodes[node]
		return Interface{Node: node, Port: port, Agent: n.Agent, IfIndex: n.Ports[port].IfIndex}
	}
	return []Interface{end(l.Node1, l.Port1), end(l.Node2, l.Port2)}, true
}

// ShortestPath returns the links of a shortest path from n1 to n2 (empty
// when n1 == n2, nil when there is none).
func (t Topology) ShortestPath(n1, n2 string) []string {
	adj := t.adjacency()
	prev := map[string]edge{n1: {}}
	queue := []string{n1}
	for len(queue) > 0 && n1 != n2 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range adj[n] {
			if _, seen := prev[e.to]; seen {
				continue
			}
			prev[e.to] = edge{e.link, n}
			if e.to == n2 {
				queue = nil
				break
			}
			queue = append(queue, e.to)
		}
	}
	if _, ok := prev[n2]; !ok {
		return nil
	}
	path := []string{}
	for n := n2; n != n1; n = prev[n].to {
		path = append(path, prev[n].link)
	}
	slices.Reverse(path)
	return path
}

// ShortestPaths returns up to k loop-free paths from n1 to n2, shortest
// first, none longer than maxLen links (0: no limit).
func (t Topology) ShortestPaths(n1, n2 string, k, maxLen int) [][]string {
	adj := t.adjacency()
	if maxLen <= 0 {
		maxLen = len(t.Nodes)
	}
	type partial struct {
		at    string
		links []string
		seen  map[string]bool
	}
	var out [][]string
	// Breadth first over loop-free paths: paths come out in order of length.
	queue := []partial{{at: n1, seen: map[string]bool{n1: true}}}
	for len(queue) > 0 && len(out) < k {
		p := queue[0]
		queue = queue[1:]
		if p.at == n2 {
			out = append(out, p.links)
			continue
		}
		if len(p.links) >= maxLen {
			continue
		}
		for _, e := range adj[p.at] {
			if p.seen[e.to] {
				continue
			}
			seen := maps.Clone(p.seen)
			seen[e.to] = true
			queue = append(queue, partial{e.to, append(slices.Clip(p.links), e.link), seen})
		}
	}
	return out
}

// MinimumSpanningTree returns the links of a spanning tree of every
// connected part (all links weigh the same, so any BFS tree is minimal).
func (t Topology) MinimumSpanningTree() []string {
	adj := t.adjacency()
	in := map[string]bool{}
	out := []string{}
	for _, root := range slices.Sorted(maps.Keys(t.Nodes)) {
		if in[root] {
			continue
		}
		in[root] = true
		queue := []string{root}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			for _, e := range adj[n] {
				if !in[e.to] {
					in[e.to] = true
					out = append(out, e.link)
					queue = append(queue, e.to)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// Diameter is the longest shortest path, in links, between connected nodes.
func (t Topology) Diameter() int {
	adj := t.adjacency()
	d := 0
	for n := range t.Nodes {
		dist := map[string]int{n: 0}
		queue := []string{n}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, e := range adj[x] {
				if _, ok := dist[e.to]; !ok {
					dist[e.to] = dist[x] + 1
					d = max(d, dist[e.to])
					queue = append(queue, e.to)
				}
			}
		}
	}
	return d
}
