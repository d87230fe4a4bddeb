module github.com/flowrt/flowrt

go 1.26.8

require github.com/gopacket/gopacket v1.7.7

require (
	github.com/gaissmai/bart v0.30.0
	github.com/maxmind/mmdbwriter v1.2.0
	github.com/oschwald/maxminddb-golang/v2 v2.9.0
	golang.org/x/sys v0.49.0
)

require go4.org/netipx v0.0.0-20231129151722-fdeea329fbba // indirect
