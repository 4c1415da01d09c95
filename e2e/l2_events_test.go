package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
)

// l2EventMsgs are the speaker log messages that tell how ownership of
// an IP moved: the memberlist views and the announcer's decisions.
var l2EventMsgs = []string{
	"memberlist view changed",
	"memberlist members joined or came back",
	"memberlist members saw others join or come back",
	"announcing",
	"stopped announcing",
	"handing over",
	"announcing the owned IPs again",
	"every interface lost its carrier: giving up the IPs",
}

// l2EventFields are the fields of those messages worth a line.
var l2EventFields = []string{"ip", "live", "failed", "left", "joined", "members", "until", "announcements"}

// logL2Events logs, for a failure, the ownership events of every
// speaker since since, merged in time order and at most max of them (the
// latest): short enough to survive a CI log that keeps only part of the
// output, where the tail of each log often misses the moment that
// matters.
func logL2Events(tb testing.TB, l *lab.Lab, since time.Time, max int) {
	tb.Helper()
	type event struct {
		at   time.Time
		line string
	}
	var events []event
	for _, p := range l.Processes() {
		if !strings.HasSuffix(p.Name, "-speaker") {
			continue
		}
		node := strings.TrimSuffix(p.Name, "-speaker")
		for _, e := range readL2Events(p.Log, since) {
			events = append(events, event{e.at, fmt.Sprintf("%s %s %s", e.at.UTC().Format("15:04:05.000"), node, e.text)})
		}
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	if len(events) > max {
		tb.Logf("(%d earlier ownership events left out)", len(events)-max)
		events = events[len(events)-max:]
	}
	for _, e := range events {
		tb.Log(e.line)
	}
}

type l2Event struct {
	at   time.Time
	text string
}

// readL2Events returns the ownership events of one speaker log from
// since on, each as its message and the fields that matter.
func readL2Events(path string, since time.Time) []l2Event {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []l2Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		msg, _ := rec["msg"].(string)
		if !slices.Contains(l2EventMsgs, msg) {
			continue
		}
		ts, _ := rec["time"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || at.Before(since) {
			continue
		}
		text := msg
		for _, k := range l2EventFields {
			if v, ok := rec[k]; ok && v != nil {
				text += fmt.Sprintf(" %s=%v", k, v)
			}
		}
		out = append(out, l2Event{at, text})
	}
	return out
}
