//go:build linux

package peertest

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/gcc"
)

// requireNetns skips t unless BWE_NETNS is set and the machine can build
// the kernel path.
func requireNetns(t *testing.T) {
	t.Helper()
	if os.Getenv("BWE_NETNS") == "" {
		t.Skip("builds network namespaces and a kernel tbf; set BWE_NETNS=1 and run as root")
	}
	if err := CheckNetns(); err != nil {
		t.Skipf("BWE_NETNS is set but the kernel path is unavailable: %v", err)
	}
}

// namespaces lists the named network namespaces.
func namespaces(t *testing.T) []string {
	t.Helper()
	ip, _, err := iproute2()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ip, "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, out)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// blast sends 1200-byte datagrams from tx to to at sendBps for d, in 5 ms
// batches, while rx counts what arrives; it returns the rate of Ethernet
// frames (payload + 42 bytes) and of UDP payload that arrived between 1 s
// and d - 1 s after the first arrival, when the tbf's queue is full, and
// the payload bytes sent and received in all.
func blast(t *testing.T, tx, rx net.PacketConn, to net.Addr, sendBps int, d time.Duration) (frameBps, payloadBps float64, sent, received int64) {
	t.Helper()
	const size = 1200
	type arrival struct {
		at time.Time
		n  int
	}
	arrivals := make(chan []arrival, 1)
	go func() {
		var got []arrival
		buf := make([]byte, 2048)
		for {
			// The line is quiet for a while after the last datagram: the
			// queue has drained.
			_ = rx.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, _, err := rx.ReadFrom(buf)
			if err != nil {
				arrivals <- got
				return
			}
			got = append(got, arrival{time.Now(), n})
		}
	}()

	payload := make([]byte, size)
	const batch = 5 * time.Millisecond
	perBatch := float64(sendBps) * batch.Seconds() / 8 / size
	tick := time.NewTicker(batch)
	start := time.Now()
	var owed float64
	for time.Since(start) < d {
		owed += perBatch
		for ; owed >= 1; owed-- {
			n, err := tx.WriteTo(payload, to)
			if err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			sent += int64(n)
		}
		<-tick.C
	}
	tick.Stop()

	got := <-arrivals
	if len(got) == 0 {
		t.Fatal("no datagram arrived")
	}
	from, to2 := got[0].at.Add(time.Second), got[0].at.Add(d-time.Second)
	var frames, payloadBytes int64
	for _, a := range got {
		received += int64(a.n)
		if a.at.Before(from) || !a.at.Before(to2) {
			continue
		}
		frames += int64(a.n) + 42
		payloadBytes += int64(a.n)
	}
	span := to2.Sub(from).Seconds()
	return float64(frames) * 8 / span, float64(payloadBytes) * 8 / span, sent, received
}

// The kernel path itself: the namespaces exist while the path does and
// are gone after; each peer's Net sees its own veth end; a datagram from a
// socket made in the receiver's namespace reaches one made in the
// sender's through the veth, and back, with the delay line's delay each
// way; and a blast at twice the tbf's rate arrives at the rate (within
// 10 %, counting Ethernet frames as the kernel does), before and after a
// rate change, with drops at the queue's limit.
func TestNetnsPath(t *testing.T) {
	requireNetns(t)
	const (
		delay = 25 * time.Millisecond
		limit = 300 * time.Millisecond
	)
	p, err := newNetnsPath(t.Context(), delay, limit, 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = p.close()
		}
	})
	if ns := namespaces(t); !slices.Contains(ns, p.tx) || !slices.Contains(ns, p.rx) {
		t.Errorf("ip netns list = %v, want %s and %s", ns, p.tx, p.rx)
	}

	for _, c := range []struct {
		n    *nsNet
		want string
	}{{p.txNet, netnsTxIP}, {p.rxNet, netnsRxIP}} {
		ifc, err := c.n.InterfaceByName(netnsDev)
		if err != nil {
			t.Fatalf("InterfaceByName(%s): %v", netnsDev, err)
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			t.Fatal(err)
		}
		if len(addrs) != 1 || !strings.HasPrefix(addrs[0].String(), c.want+"/") || ifc.Flags&net.FlagUp == 0 {
			t.Errorf("%s: flags %v, addresses %v, want up with %s only", netnsDev, ifc.Flags, addrs, c.want+netnsPrefix)
		}
	}

	txConn, err := p.txNet.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(netnsTxIP)})
	if err != nil {
		t.Fatal(err)
	}
	rxConn, err := p.rxNet.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(netnsRxIP)})
	if err != nil {
		t.Fatal(err)
	}

	// Receiver → sender and back.
	_ = txConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_ = rxConn.SetReadDeadline(time.Now().Add(5 * time.Second))
	begin := time.Now()
	if _, err := rxConn.WriteTo([]byte("ping"), txConn.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, from, err := txConn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("sender's socket: %v", err)
	}
	oneWay := time.Since(begin)
	if string(buf[:n]) != "ping" || from.String() != rxConn.LocalAddr().String() {
		t.Errorf("sender's socket read %q from %v, want \"ping\" from %v", buf[:n], from, rxConn.LocalAddr())
	}
	if _, err := txConn.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	n, _, err = rxConn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("receiver's socket: %v", err)
	}
	rtt := time.Since(begin)
	if string(buf[:n]) != "pong" {
		t.Errorf("receiver's socket read %q, want \"pong\"", buf[:n])
	}
	t.Logf("receiver → sender %v, round trip %v (delay line %v each way)", oneWay, rtt, delay)
	if oneWay < delay || rtt < 2*delay || rtt > 2*delay+25*time.Millisecond {
		t.Errorf("one way %v, round trip %v; want >= %v and %v to %v", oneWay, rtt, delay, 2*delay, 2*delay+25*time.Millisecond)
	}
	_ = txConn.SetReadDeadline(time.Time{})
	_ = rxConn.SetReadDeadline(time.Time{})
	// The sender's socket sent "pong" only; the receiver's read it only.
	// The sender's count follows its send, which may be after the read.
	for deadline := time.Now().Add(time.Second); p.offered.Load() < 4 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if o, d := p.offered.Load(), p.delivered.Load(); o != 4 || d != 4 {
		t.Errorf("after ping-pong: offered %d bytes, delivered %d, want 4 and 4", o, d)
	}

	offered0, delivered0 := p.offered.Load(), p.delivered.Load()
	for i, rate := range []int{2_000_000, 1_000_000} {
		if err := p.setRate(rate); err != nil {
			t.Fatal(err)
		}
		before, err := p.stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		frameBps, payloadBps, sent, received := blast(t, txConn, rxConn, rxConn.LocalAddr(), 2*rate, 4*time.Second)
		after, err := p.stats(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		dropped := after.Dropped - before.Dropped
		t.Logf("tbf at %d bps, blast at %d bps: %.0f bps of frames, %.0f bps of UDP payload arrived; %d of %d payload bytes; the qdisc dropped %d datagrams",
			rate, 2*rate, frameBps, payloadBps, received, sent, dropped)
		if frameBps < 0.9*float64(rate) || frameBps > 1.1*float64(rate) {
			t.Errorf("step %d: tbf at %d bps let %.0f bps of frames through, want within 10 %%", i, rate, frameBps)
		}
		if dropped == 0 {
			t.Errorf("step %d: the qdisc dropped nothing of a blast at twice its rate", i)
		}
		if got, want := p.offered.Load()-offered0, sent; got != want {
			t.Errorf("step %d: offered counter grew by %d bytes, the blast sent %d", i, got, want)
		}
		if got, want := p.delivered.Load()-delivered0, received; got != want {
			t.Errorf("step %d: delivered counter grew by %d bytes, the blast received %d", i, got, want)
		}
		offered0, delivered0 = p.offered.Load(), p.delivered.Load()
	}
	line := txConn.(*udpConn).line
	if f := line.failed.Load(); f != 0 {
		t.Errorf("the sender's socket failed %d sends", f)
	}
	if s := line.sent.Load(); s > 0 {
		t.Logf("sender's delay line: %d datagrams, late by %v on average, %v at most",
			s, time.Duration(line.lateSum.Load()/s), time.Duration(line.lateMax.Load()))
	}

	closed = true
	if err := p.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if ns := namespaces(t); slices.Contains(ns, p.tx) || slices.Contains(ns, p.rx) {
		t.Errorf("after close, ip netns list = %v, still has %s or %s", ns, p.tx, p.rx)
	}
	if _, err := txConn.WriteTo([]byte("x"), rxConn.LocalAddr()); err == nil {
		t.Error("WriteTo after close succeeded")
	}
}

// A short session of pion's gcc through the kernel path, started above a
// 500 kbps tbf: the peers connect, feedback flows, and the delivered rate
// stays within the bottleneck + 10 % while saturating it.
func TestNetnsBottleneckBinds(t *testing.T) {
	requireNetns(t)
	const rate = 500_000
	before := namespaces(t)
	cfg := Config{
		Factory:    GCC(gcc.SendSideBWEInitialBitrate(1_000_000)),
		Bottleneck: Constant(rate),
		Duration:   5 * time.Second,
	}
	series, err := RunNetns(t.Context(), cfg)
	if err != nil {
		t.Fatalf("RunNetns: %v", err)
	}
	if series.FeedbackReports == 0 || series.PacketsReceived == 0 {
		t.Errorf("FeedbackReports = %d, PacketsReceived = %d, want both > 0", series.FeedbackReports, series.PacketsReceived)
	}
	checkBottleneck(t, series.Samples, DefaultSampleInterval)
	first := meanDelivered(series.Samples[:int(window/DefaultSampleInterval)])
	t.Logf("connected after %v; first second delivered %d bps; %d RTP packets sent, %d received; %d feedback reports; %d bytes offered, %d delivered",
		series.ConnectedAfter, first, series.PacketsSent, series.PacketsReceived, series.FeedbackReports, series.OfferedBytes, series.DeliveredBytes)
	if want := rate * 7 / 10; first < want {
		t.Errorf("first second: delivered %d bps, want >= %d (70 %% of the bottleneck)", first, want)
	}
	if series.OfferedBytes <= series.DeliveredBytes {
		t.Errorf("OfferedBytes = %d <= DeliveredBytes = %d; want drops at a saturated bottleneck", series.OfferedBytes, series.DeliveredBytes)
	}
	if after := namespaces(t); !slices.Equal(after, before) {
		t.Errorf("namespaces before the session %v, after %v", before, after)
	}
}

// RunNetns tears the path down when the session fails: the peers cannot
// connect within a nanosecond, or the context has ended before the path is
// built (which is then no sign of a machine without namespaces).
func TestNetnsCleansUpOnFailure(t *testing.T) {
	requireNetns(t)
	before := namespaces(t)
	if _, err := RunNetns(t.Context(), Config{ConnectTimeout: time.Nanosecond}); err == nil || !strings.Contains(err.Error(), "waiting for") {
		t.Errorf("RunNetns with a 1 ns connect timeout: error %v, want a timeout waiting for the peers", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := RunNetns(ctx, Config{}); err == nil || errors.Is(err, ErrNetnsUnavailable) {
		t.Errorf("RunNetns with a cancelled context: error %v, want one not wrapping ErrNetnsUnavailable", err)
	}
	if after := namespaces(t); !slices.Equal(after, before) {
		t.Errorf("namespaces before %v, after the failed sessions %v", before, after)
	}
}

// Without root, CheckNetns says so.
func TestCheckNetnsNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("runs as root")
	}
	err := CheckNetns()
	if err == nil || !strings.Contains(err.Error(), "root") {
		t.Errorf("CheckNetns() = %v, want an error naming root", err)
	}
}
