package flow

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// dns:<address key> is the address's name by reverse DNS (a PTR lookup):
// sunburst's DNS view (keys 'dns:ipsource' …) and particle
// ('null:[dns:ipsource]:').
//
// The name if one is known, otherwise the address itself — as sFlow-RT
// documents it ("returns a dns name if available, otherwise the original IP
// address is returned", sFlow blog, "Real-time domain name lookups",
// 2016). A sample never waits for DNS: an address met for the first time
// is queued for a lookup and that sample gets the address. Once the answer
// arrives the name is used; answers are kept for DNSTTL, failures and
// missing names for DNSNegativeTTL, at most DNSMax addresses (past it, one
// entry is dropped for each new one), and at most DNSQueue lookups wait:
// an address that finds the queue full is asked for again with a later
// sample.

// Bounds of the reverse-DNS cache.
const (
	DNSMax         = 100000
	DNSQueue       = 4096
	DNSWorkers     = 4
	DNSTimeout     = 2 * time.Second
	DNSTTL         = 10 * time.Minute
	DNSNegativeTTL = time.Minute
)

// DNSNames is the cache and lookup queue behind dns:.
type DNSNames struct {
	lookup func(ctx context.Context, addr string) ([]string, error)
	max    int

	mu      sync.RWMutex
	names   map[netip.Addr]dnsEntry
	queue   chan netip.Addr
	start   sync.Once
	now     func() time.Time
	lookups uint64 // lookups answered (for tests and logs)
}

type dnsEntry struct {
	name    string // "" while pending, or when there is none
	expires int64  // unix ns; 0 while pending
}

// NewDNSNames returns a cache that resolves with lookup (net.Resolver's
// LookupAddr) and holds at most max addresses.
func NewDNSNames(lookup func(ctx context.Context, addr string) ([]string, error), max int) *DNSNames {
	return &DNSNames{lookup: lookup, max: max, names: map[netip.Addr]dnsEntry{}, queue: make(chan netip.Addr, DNSQueue), now: time.Now}
}

// defaultDNS serves dns: for compilers that were given no other: the
// system's resolver.
var defaultDNS = sync.OnceValue(func() *DNSNames { return NewDNSNames(net.DefaultResolver.LookupAddr, DNSMax) })

// DNSFunc is the dns: key function over names.
func DNSFunc(names *DNSNames) Func {
	return func(c *Compiler, args []string) (Expr, error) {
		if err := need(args, 1, 1, "dns:<address key>"); err != nil {
			return nil, err
		}
		k, err := c.Key(args[0])
		if err != nil {
			return nil, err
		}
		return dnsExpr{k: k, names: names}, nil
	}
}

type dnsExpr struct {
	k     Expr
	names *DNSNames
}

func (e dnsExpr) AppendValue(s *Sample, dst []byte) ([]byte, bool) {
	start := len(dst)
	out, ok := e.k.AppendValue(s, dst)
	if !ok {
		return dst, false
	}
	a, err := netip.ParseAddr(str(out[start:]))
	if err != nil {
		return dst, false
	}
	name, ok := e.names.Name(a)
	if !ok {
		return out, true // no name (yet): the address, as sFlow-RT answers
	}
	return append(out[:start], name...), true
}

// Name returns a's name when one is known; otherwise it queues a lookup
// (once per address until it is answered) and returns false at once.
func (d *DNSNames) Name(a netip.Addr) (string, bool) {
	a = a.Unmap()
	now := d.now().UnixNano()
	d.mu.RLock()
	en, found := d.names[a]
	d.mu.RUnlock()
	if found && (en.expires == 0 || en.expires > now) {
		return en.name, en.name != ""
	}
	d.mu.Lock()
	if en, found = d.names[a]; found && (en.expires == 0 || en.expires > now) {
		d.mu.Unlock()
		return en.name, en.name != ""
	}
	select {
	case d.queue <- a:
		if len(d.names) >= d.max {
			for old := range d.names { // one entry, the map's choice
				delete(d.names, old)
				break
			}
		}
		d.names[a] = dnsEntry{} // pending
	default: // the queue is full: a later sample asks again
	}
	d.mu.Unlock()
	d.start.Do(func() {
		for range DNSWorkers {
			go d.work()
		}
	})
	return "", false
}

// work answers queued lookups.
func (d *DNSNames) work() {
	for a := range d.queue {
		ctx, cancel := context.WithTimeout(context.Background(), DNSTimeout)
		names, err := d.lookup(ctx, a.String())
		cancel()
		en := dnsEntry{expires: d.now().Add(DNSNegativeTTL).UnixNano()}
		if err == nil && len(names) > 0 {
			en = dnsEntry{name: strings.TrimSuffix(names[0], "."), expires: d.now().Add(DNSTTL).UnixNano()}
		}
		d.mu.Lock()
		if _, still := d.names[a]; still || len(d.names) < d.max {
			d.names[a] = en
		}
		d.lookups++
		d.mu.Unlock()
	}
}

// Lookups is how many lookups have been answered.
func (d *DNSNames) Lookups() uint64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.lookups
}

// Len is how many addresses the cache holds (pending ones included).
func (d *DNSNames) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.names)
}

// ServersLookup is a reverse lookup that asks the given DNS servers
// (address or address:port, port 53 by default) in turn, over UDP (TCP for
// a truncated answer): sFlow-RT's dns.servers property. /etc/hosts is read
// first, as by the system's resolver.
func ServersLookup(servers []string) (func(ctx context.Context, addr string) ([]string, error), error) {
	if len(servers) == 0 {
		return nil, fmt.Errorf("no DNS servers given")
	}
	addrs := make([]string, len(servers))
	for i, s := range servers {
		s = strings.TrimSpace(s)
		if a, err := netip.ParseAddr(s); err == nil {
			addrs[i] = netip.AddrPortFrom(a, 53).String()
			continue
		}
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("DNS server %q is not an address or address:port", s)
		}
		addrs[i] = ap.String()
	}
	var next atomic.Uint32
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addrs[int(next.Add(1)-1)%len(addrs)])
	}}
	return r.LookupAddr, nil
}
