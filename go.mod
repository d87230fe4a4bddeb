module github.com/flowrt/flowrt

go 1.26.8
