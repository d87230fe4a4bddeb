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
	path := filepath.Join(dir, "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = tree.WriteTo(f)
	return path, err
}
