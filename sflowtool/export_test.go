package sflowtool

// AppendJSONForTest exposes appendJSON to the external tests.
func AppendJSONForTest(b, s []byte) []byte { return appendJSON(b, s) }
