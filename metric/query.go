package metric

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// Point is one metric value at one data source, as /dump and /table show
// it.
type Point struct {
	Agent       string `json:"agent"`
	DataSource  string `json:"dataSource"`
	MetricName  string `json:"metricName"`
	MetricValue any    `json:"metricValue"`
	LastUpdate  int64  `json:"lastUpdate"` // ms ago
	TopKeys     []Top  `json:"topKeys,omitempty"`

	value Value
}

// Top is one of a flow metric's largest flows.
type Top struct {
	Key        string  `json:"key"`
	Value      float64 `json:"value"`
	LastUpdate int64   `json:"lastUpdate"`
}

// NewPoint makes a point from a value read at now (ms).
func NewPoint(agent, ds, name string, v Value, now int64) Point {
	return Point{Agent: agent, DataSource: ds, MetricName: name, MetricValue: v.Any(),
		LastUpdate: max(now-v.Updated, 0), value: v}
}

// Value returns the point's value.
func (p Point) Value() Value { return p.value }

// Statistic summarises one metric across data sources (an element of the
// /metric/{agent}/{metric}/json array).
type Statistic struct {
	Agent         string     `json:"agent,omitempty"`
	DataSource    string     `json:"dataSource,omitempty"`
	MetricName    string     `json:"metricName"`
	MetricValue   any        `json:"metricValue,omitempty"`
	MetricN       int        `json:"metricN"`
	LastUpdate    *int64     `json:"lastUpdate,omitempty"` // absent when nothing matched (or for sum:, avg: …)
	LastUpdateMax *int64     `json:"lastUpdateMax,omitempty"`
	LastUpdateMin *int64     `json:"lastUpdateMin,omitempty"`
	TopKeys       []Top      `json:"topKeys,omitempty"`
	Quartiles     *Quartiles `json:"quartiles,omitempty"`
}

// Quartiles accompany med: statistics.
type Quartiles struct {
	Min float64 `json:"min"`
	Q1  float64 `json:"q1"`
	Med float64 `json:"med"`
	Q3  float64 `json:"q3"`
	Max float64 `json:"max"`
}

// Aggregations lists the aggregation prefixes.
var Aggregations = []string{"max", "min", "sum", "avg", "var", "sdev", "med", "q1", "q2", "q3", "iqr", "any"}

// ParseName splits "sum:ifinoctets" into the aggregation ("max" when none
// is given) and the metric. An optional data source qualifier stays in
// the name ("max:2.1.load_one").
func ParseName(s string) (agg, name string, err error) {
	agg, name, found := strings.Cut(s, ":")
	if !found {
		return "max", s, nil
	}
	if !slices.Contains(Aggregations, agg) {
		return "", "", fmt.Errorf("unknown aggregation %q in %q (use one of %s)", agg, s, strings.Join(Aggregations, ", "))
	}
	if name == "" {
		return "", "", fmt.Errorf("missing metric name in %q", s)
	}
	return agg, name, nil
}

// Aggregate summarises points (all of one metric) with agg. name is the
// requested name, prefix included, as the result echoes it.
func Aggregate(agg, name string, pts []Point) Statistic {
	st := Statistic{MetricName: name, MetricN: len(pts)}
	if len(pts) == 0 {
		return st
	}
	lo, hi := pts[0].LastUpdate, pts[0].LastUpdate
	for _, p := range pts {
		lo, hi = min(lo, p.LastUpdate), max(hi, p.LastUpdate)
	}
	st.LastUpdateMin, st.LastUpdateMax = &lo, &hi
	pick := func(p Point) {
		last := p.LastUpdate
		st.Agent, st.DataSource, st.MetricValue, st.LastUpdate, st.TopKeys = p.Agent, p.DataSource, p.MetricValue, &last, p.TopKeys
	}
	var nums []float64
	var strs []Point
	for _, p := range pts {
		if p.value.IsStr {
			strs = append(strs, p)
		} else {
			nums = append(nums, p.value.Num)
		}
	}
	if len(nums) == 0 { // strings: any, max and min by text
		best := strs[0]
		for _, p := range strs[1:] {
			if (agg == "max" && p.value.Str > best.value.Str) || (agg == "min" && p.value.Str < best.value.Str) {
				best = p
			}
		}
		pick(best)
		st.MetricN = len(strs)
		return st
	}
	st.MetricN = len(nums)
	switch agg {
	case "max", "min", "any":
		var best *Point
		for i := range pts {
			p := &pts[i]
			if p.value.IsStr {
				continue
			}
			if best == nil || (agg == "max" && p.value.Num > best.value.Num) || (agg == "min" && p.value.Num < best.value.Num) {
				best = p
			}
		}
		pick(*best)
		return st
	}
	sum := 0.0
	for _, v := range nums {
		sum += v
	}
	mean := sum / float64(len(nums))
	variance := 0.0
	for _, v := range nums {
		variance += (v - mean) * (v - mean)
	}
	variance /= float64(len(nums))
	slices.Sort(nums)
	q := func(f float64) float64 { return quantile(nums, f) }
	switch agg {
	case "sum":
		st.MetricValue = sum
	case "avg":
		st.MetricValue = mean
	case "var":
		st.MetricValue = variance
	case "sdev":
		st.MetricValue = math.Sqrt(variance)
	case "med", "q2":
		st.MetricValue = q(0.5)
		st.Quartiles = &Quartiles{Min: nums[0], Q1: q(0.25), Med: q(0.5), Q3: q(0.75), Max: nums[len(nums)-1]}
	case "q1":
		st.MetricValue = q(0.25)
	case "q3":
		st.MetricValue = q(0.75)
	case "iqr":
		st.MetricValue = q(0.75) - q(0.25)
	}
	return st
}

// quantile interpolates linearly between the closest ranks of sorted v.
func quantile(v []float64, f float64) float64 {
	pos := f * float64(len(v)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(v)-1)
	return v[lo] + (v[hi]-v[lo])*(pos-float64(lo))
}

// Filter restricts queries to data sources whose metrics match: name →
// alternatives, each a value or a glob pattern (host_name=*web.*). Names
// must all match (and); the alternatives of one name are or.
type Filter map[string][]string

// Match reports whether the filter accepts a data source; get returns the
// data source's (or, failing that, its agent's) value of a metric.
func (f Filter) Match(get func(name string) (Value, bool)) bool {
	for name, alts := range f {
		v, ok := get(name)
		if !ok {
			return false
		}
		text := v.Str
		if !v.IsStr {
			text = formatNum(v.Num)
		}
		hit := false
		for _, a := range alts {
			if a == text {
				hit = true
				break
			}
			if strings.ContainsAny(a, "*?[") {
				if m, err := path.Match(a, text); err == nil && m {
					hit = true
					break
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

func formatNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e18 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprint(v)
}

// Number returns the point's value when it is a number.
func (p Point) Number() (float64, bool) { return p.value.Num, !p.value.IsStr }
