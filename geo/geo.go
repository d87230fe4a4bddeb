// Package geo answers where an address is and whose a MAC address is: the
// country: and asn: key functions and the sourcecountry, destinationcountry,
// sourceas, destinationas … keys, from MaxMind-format .mmdb databases
// (geo.country, geo.asn), and oui: from an IEEE OUI list (oui.names;
// Debian's ieee-data package ships one).
//
// A lookup walks the database's tree; the record it reaches is decoded once
// and remembered by its offset, so classifying traffic allocates nothing
// once each country or AS has been seen.
package geo

import (
	"fmt"
	"net/netip"
	"strconv"
	"sync"

	"github.com/oschwald/maxminddb-golang/v2"
)

// DB is an opened .mmdb database of countries or autonomous systems.
type DB struct {
	r    *maxminddb.Reader
	path string
	mu   sync.RWMutex
	recs map[uintptr]Record
}

// Record is what a database says of an address.
type Record struct {
	Country string // ISO 3166 code (country databases)
	ASN     uint32 // AS number (ASN databases)
	ASName  string // AS organisation (ASN databases)
}

type mmdbRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
	ASN    uint32 `maxminddb:"autonomous_system_number"`
	ASName string `maxminddb:"autonomous_system_organization"`
}

// Open opens a database.
func Open(path string) (*DB, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("GeoIP database %s: %w", path, err)
	}
	return &DB{r: r, path: path, recs: map[uintptr]Record{}}, nil
}

// Type returns the database type from its metadata (GeoLite2-Country …).
func (d *DB) Type() string { return d.r.Metadata.DatabaseType }

// Lookup returns the record for an address.
func (d *DB) Lookup(a netip.Addr) (Record, bool) {
	if d == nil {
		return Record{}, false
	}
	res := d.r.Lookup(a.Unmap())
	if !res.Found() {
		return Record{}, false
	}
	off := res.Offset()
	d.mu.RLock()
	rec, ok := d.recs[off]
	d.mu.RUnlock()
	if ok {
		return rec, true
	}
	var m mmdbRecord
	if err := res.Decode(&m); err != nil {
		return Record{}, false
	}
	rec = Record{Country: m.Country.ISOCode, ASN: m.ASN, ASName: m.ASName}
	if rec.Country == "" {
		rec.Country = m.RegisteredCountry.ISOCode
	}
	d.mu.Lock()
	d.recs[off] = rec
	d.mu.Unlock()
	return rec, true
}

// Close closes the database.
func (d *DB) Close() error { return d.r.Close() }

func appendASN(dst []byte, r Record, part string) []byte {
	switch part {
	case "descr", "name":
		return append(dst, r.ASName...)
	case "both":
		dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
		return append(append(dst, ' '), r.ASName...)
	}
	return strconv.AppendUint(dst, uint64(r.ASN), 10)
}
