package e2e

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
)

// processCPU is the CPU time, in clock ticks, each process used so far,
// its reaped children's included, keyed by pid and command line.
type processCPU map[string]uint64

// clockTicksPerSecond is USER_HZ, 100 on every Linux architecture Go
// runs on.
const clockTicksPerSecond = 100

// readProcessCPU reads /proc/*/stat. Processes that vanish while it reads
// are left out.
func readProcessCPU() processCPU {
	out := processCPU{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		ticks, ok := statTicks(data)
		if !ok {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		line := strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
		if len(line) > 90 {
			line = line[:90]
		}
		out[filepath.Base(filepath.Dir(p))+" "+line] = ticks
	}
	return out
}

// statTicks sums utime, stime, cutime and cstime of a /proc/PID/stat.
func statTicks(stat []byte) (uint64, bool) {
	// The command name may hold spaces and parentheses: fields start
	// after the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return 0, false
	}
	var sum uint64
	for _, s := range f[11:15] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, false
		}
		sum += v
	}
	return sum, true
}

// logProcessCPU logs the processes that used the most CPU between
// before and after, per probe, to tell where the shared cores went.
func logProcessCPU(b *testing.B, before, after processCPU, probes int) {
	if probes == 0 {
		return
	}
	type use struct {
		name  string
		ticks uint64
	}
	var uses []use
	var total uint64
	for name, t := range after {
		if d := t - before[name]; t > before[name] {
			uses = append(uses, use{name, d})
			total += d
		}
	}
	slices.SortFunc(uses, func(a, b use) int { return cmp.Compare(b.ticks, a.ticks) })
	ms := func(ticks uint64) string {
		return fmt.Sprintf("%.1f ms", float64(ticks)*1000/clockTicksPerSecond/float64(probes))
	}
	b.Logf("CPU per probe, all processes: %s", ms(total))
	for _, u := range uses[:min(len(uses), 16)] {
		b.Logf("CPU per probe: %8s  %s", ms(u.ticks), u.name)
	}
}

// apiRequests counts the API server's requests by verb, resource and
// subresource (apiserver_request_total).
type apiRequests map[string]float64

func readAPIRequests(b *testing.B, cs kubernetes.Interface) apiRequests {
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(b.Context())
	if err != nil {
		b.Logf("reading the API server's metrics: %v", err)
		return nil
	}
	out := apiRequests{}
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, v, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		var verb, resource, sub string
		for _, kv := range strings.Split(labels, ",") {
			k, val, _ := strings.Cut(kv, "=")
			val = strings.Trim(val, `"`)
			switch k {
			case "verb":
				verb = val
			case "resource":
				resource = val
			case "subresource":
				sub = val
			}
		}
		if sub != "" {
			resource += "/" + sub
		}
		out[verb+" "+resource] += n
	}
	return out
}

// logAPIRequests logs the API requests made per probe between before and
// after.
func logAPIRequests(b *testing.B, before, after apiRequests, probes int) {
	if probes == 0 || before == nil || after == nil {
		return
	}
	var keys []string
	total := 0.0
	for k, v := range after {
		if v > before[k] {
			keys = append(keys, k)
			total += v - before[k]
		}
	}
	slices.SortFunc(keys, func(x, y string) int { return cmp.Compare(after[y]-before[y], after[x]-before[x]) })
	b.Logf("API requests per probe: %.1f", total/float64(probes))
	for _, k := range keys[:min(len(keys), 14)] {
		b.Logf("API requests per probe: %5.1f  %s", (after[k]-before[k])/float64(probes), k)
	}
}
