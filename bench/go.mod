module github.com/flowrt/flowrt/bench

go 1.26.8

replace github.com/flowrt/flowrt => ../

require (
	github.com/flowrt/flowrt v0.0.0-00010101000000-000000000000
	github.com/netsampler/goflow2/v2 v2.2.6
)
