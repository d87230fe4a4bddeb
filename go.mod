module github.com/flowrt/flowrt

go 1.26.8

require github.com/gopacket/gopacket v1.7.7

require golang.org/x/sys v0.49.0

require github.com/gaissmai/bart v0.30.0 // indirect
