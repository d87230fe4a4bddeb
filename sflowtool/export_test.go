package sflowtool

// AppendJSONForTest exposes appendJSON to the external tests.
func AppendJSONForTest(b, s []byte) []byte { return appendJSON(b, s) }

// AppendUintForTest exposes appendUint to the external tests.
func AppendUintForTest(b []byte, v uint64) []byte { return appendUint(b, v) }

// AppendHeaderHexForTest exposes appendHeaderHex to the external tests.
func AppendHeaderHexForTest(b, h []byte) []byte { return appendHeaderHex(b, h) }
