package main

import (
	"net"
	"os"
	"path/filepath"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeCountryDB writes a made-up MaxMind-format country database: the
// IPv4 space in four quarters, US, DE, JP and BR (private ranges included),
// so that apps keyed by country (world-map, particle) have countries to
// show with flowrt send's addresses. It is not geography.
func writeCountryDB(dir string) (string, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "flowrt-inmon-apps-Country", IncludeReservedNetworks: true})
	if err != nil {
		return "", err
	}
	for cidr, code := range map[string]string{"0.0.0.0/2": "US", "64.0.0.0/2": "DE", "128.0.0.0/2": "JP", "192.0.0.0/2": "BR"} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}); err != nil {
			return "", err
		}
	}
	return writeTree(tree, filepath.Join(dir, "country.mmdb"))
}

// writeASNDB writes a made-up MaxMind-format ASN database in the same
// four quarters (AS64496–AS64499, the documentation range), for asn: keys.
func writeASNDB(dir string) (string, error) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "flowrt-inmon-apps-ASN", IncludeReservedNetworks: true})
	if err != nil {
		return "", err
	}
	for i, cidr := range []string{"0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"} {
		_, n, _ := net.ParseCIDR(cidr)
		if err := tree.Insert(n, mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(64496 + i),
			"autonomous_system_organization": mmdbtype.String([]string{"North", "East", "South", "West"}[i] + " Example Networks")}); err != nil {
			return "", err
		}
	}
	return writeTree(tree, filepath.Join(dir, "asn.mmdb"))
}

func writeTree(tree *mmdbwriter.Tree, path string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = tree.WriteTo(f)
	return path, err
}
