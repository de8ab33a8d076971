//go:build linux

package peertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/transport/v4"
	"github.com/pion/transport/v4/stdnet"
	"github.com/pion/webrtc/v4"
	"golang.org/x/sys/unix"
)

// The kernel path: two network namespaces joined by a veth pair, a tbf
// qdisc on the sender's end.
//
//	sender ns                                         receiver ns
//	  veth0 198.18.0.1 ─ tbf (rate, burst, limit) ──▶ veth0 198.18.0.2
//	        ◀────────────────── (no qdisc) ───────────
//
// The addresses are from 198.18.0.0/15, reserved for benchmarking (RFC
// 2544); each namespace sees only its own veth end and a loopback left
// down, so the peers' only host candidates are these two addresses.
const (
	netnsTxIP   = "198.18.0.1"
	netnsRxIP   = "198.18.0.2"
	netnsPrefix = "/30"
	netnsDev    = "veth0"
	// netnsRunDir is where `ip netns add` mounts the namespaces it names.
	netnsRunDir = "/var/run/netns"
	// netnsCmdTimeout bounds each ip or tc command.
	netnsCmdTimeout = 10 * time.Second
	// socketBufferBytes is the send and receive buffer forced on every
	// UDP socket of the kernel path, so that the tbf's byte limit, not
	// the sender's socket buffer (which holds the datagrams queued in the
	// qdisc), bounds the queue, and that a receiver slow to read does not
	// drop at its socket.
	socketBufferBytes = 4 << 20
	// delayLineSlots is the capacity of a socket's delay line, in
	// datagrams; a writer waits when it is full.
	delayLineSlots = 4096
)

// netnsSeq numbers the namespaces made by this process.
var netnsSeq atomic.Int64

// ErrNetnsUnavailable is wrapped by the errors of [CheckNetns] and
// [RunNetns] when this machine cannot build the kernel path: the process
// is not root, iproute2 is missing, or the kernel refuses a namespace, a
// veth pair or a tbf qdisc.
var ErrNetnsUnavailable = errors.New("peertest: the kernel path is unavailable")

// RunNetns is [Run] through the Linux kernel instead of vnet: the peers
// live in two network namespaces of their own, made for the session and
// deleted after it, joined by a veth pair whose sender end has a tbf qdisc
// as the bottleneck. The session (peers, source, sampling) is Run's; so
// are Config and its defaults. It needs root and must run on the wall
// clock: not inside a testing/synctest bubble.
//
// The differences from Run:
//
//   - Bottleneck. Config.Bottleneck sets the tbf's rate (`tc qdisc
//     change` when it changes), with a burst of two 1500-byte frames and a
//     byte limit of Config.QueueLimit worth of data at that rate, as for
//     vnet. The kernel counts Ethernet frames: each datagram costs its UDP
//     payload plus 42 bytes (14 Ethernet, 20 IPv4, 8 UDP), so the payload
//     the bottleneck carries is about 3.4 % below its rate for 1200-byte
//     datagrams, where vnet's token bucket counts payload only.
//   - Delay. The kernel path has no delay of its own (netem, which would
//     provide it, is not required). Each UDP socket of either peer holds
//     every datagram it is given for Config.Delay in a user-space delay
//     line before handing it to the kernel, so both directions have the
//     one-way delay, the sender's side before the bottleneck. The line is
//     timed by Go timers on the wall clock: a loaded machine wakes it late,
//     adding jitter on top of the delay.
//   - Counters. [Sample].OfferedBps counts the UDP payload the sender's
//     sockets handed to the kernel (after the delay line), all of which
//     enters the tbf; DeliveredBps counts the UDP payload the receiver's
//     sockets read, which left the tbf.
//
// Errors building the path wrap [ErrNetnsUnavailable] when the machine
// lacks what it needs; [CheckNetns] tells beforehand.
func RunNetns(ctx context.Context, cfg Config) (Series, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Series{}, err
	}
	start := time.Now()

	p, err := newNetnsPath(ctx, cfg.Delay, cfg.QueueLimit, cfg.Bottleneck(0))
	if err != nil {
		return Series{}, err
	}
	return run(ctx, cfg, p, start)
}

// CheckNetns reports whether [RunNetns] can work here. It returns nil if
// the process is root, finds the ip and tc commands of iproute2, and can
// make a network namespace, join it, and give a veth pair in it a tbf
// qdisc; else an error wrapping [ErrNetnsUnavailable] that says what
// failed. It leaves nothing behind.
func CheckNetns() (err error) {
	if euid := os.Geteuid(); euid != 0 {
		return fmt.Errorf("%w: it needs root (euid %d)", ErrNetnsUnavailable, euid)
	}
	ip, tc, err := iproute2()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
	defer cancel()
	name := fmt.Sprintf("bwe-probe-%d-%d", os.Getpid(), netnsSeq.Add(1))
	if err := command(ctx, ip, "netns", "add", name); err != nil {
		return fmt.Errorf("%w: %w", ErrNetnsUnavailable, err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
		defer cancel()
		if derr := command(ctx, ip, "netns", "del", name); derr != nil && err == nil {
			err = derr
		}
	}()
	for _, args := range [][]string{
		{ip, "-n", name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1"},
		append([]string{tc, "-n", name, "qdisc", "add", "dev", "veth0", "root"}, tbfArgs(1_000_000, minQueueBytes)...),
	} {
		if err := command(ctx, args[0], args[1:]...); err != nil {
			return fmt.Errorf("%w: %w", ErrNetnsUnavailable, err)
		}
	}
	n, err := newNSNet(name, 0, nil, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNetnsUnavailable, err)
	}
	return n.close()
}

// iproute2 finds the ip and tc commands: on PATH, else in /usr/sbin or
// /sbin, which an unprivileged PATH often lacks.
func iproute2() (ip, tc string, err error) {
	find := func(name string) (string, error) {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p, nil
			}
		}
		return "", fmt.Errorf("%w: %s (iproute2) is not on PATH, in /usr/sbin or in /sbin", ErrNetnsUnavailable, name)
	}
	if ip, err = find("ip"); err != nil {
		return "", "", err
	}
	if tc, err = find("tc"); err != nil {
		return "", "", err
	}
	return ip, tc, nil
}

// command runs bin with args and returns an error quoting its output if it
// fails.
func command(ctx context.Context, bin string, args ...string) error {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("peertest: %s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// unavailable marks err, the failure of a command that builds the path, as
// the machine's lack unless ctx ended.
func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNetnsUnavailable, err)
}

// tbfArgs are the parameters of the bottleneck's tbf qdisc: rate in bits per
// second, a burst of tbfBurstBytes and a queue of limitBytes.
func tbfArgs(rateBps int, limitBytes int64) []string {
	return []string{
		"tbf",
		"rate", strconv.Itoa(rateBps) + "bit",
		"burst", strconv.Itoa(tbfBurstBytes),
		"limit", strconv.FormatInt(limitBytes, 10),
	}
}

// netnsPath is the kernel path of RunNetns.
type netnsPath struct {
	ip, tc     string
	tx, rx     string   // the namespaces' names
	created    []string // the namespaces to delete
	txNet      *nsNet
	rxNet      *nsNet
	queueLimit time.Duration

	rate      atomic.Int64 // current tbf rate, bits per second
	offered   atomic.Int64 // UDP payload bytes the sender's sockets sent
	delivered atomic.Int64 // UDP payload bytes the receiver's sockets read
}

// newNetnsPath builds the namespaces, the veth pair and the tbf at rateBps,
// and a Net for each peer whose sockets hold datagrams for delay. If it
// fails it removes what it built.
func newNetnsPath(ctx context.Context, delay, queueLimit time.Duration, rateBps int) (_ *netnsPath, err error) {
	p := &netnsPath{queueLimit: queueLimit}
	if p.ip, p.tc, err = iproute2(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.close())
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, netnsCmdTimeout)
	defer cancel()

	id := fmt.Sprintf("%d-%d", os.Getpid(), netnsSeq.Add(1))
	p.tx, p.rx = "bwe-tx-"+id, "bwe-rx-"+id
	for _, name := range []string{p.tx, p.rx} {
		if err := command(ctx, p.ip, "netns", "add", name); err != nil {
			return nil, unavailable(ctx, err)
		}
		p.created = append(p.created, name)
	}
	if err := command(ctx, p.ip, "-n", p.tx, "link", "add", netnsDev, "type", "veth", "peer", "name", netnsDev, "netns", p.rx); err != nil {
		return nil, unavailable(ctx, err)
	}
	for _, end := range []struct{ ns, ip string }{{p.tx, netnsTxIP}, {p.rx, netnsRxIP}} {
		// No IPv6 link-local address: nothing but the session's
		// datagrams (and ARP) crosses the link.
		for _, args := range [][]string{
			{"link", "set", netnsDev, "addrgenmode", "none"},
			{"addr", "add", end.ip + netnsPrefix, "dev", netnsDev},
			{"link", "set", netnsDev, "up"},
		} {
			if err := command(ctx, p.ip, append([]string{"-n", end.ns}, args...)...); err != nil {
				return nil, err
			}
		}
	}
	tbf := append([]string{"-n", p.tx, "qdisc", "add", "dev", netnsDev, "root"}, tbfArgs(rateBps, queueBytes(rateBps, queueLimit))...)
	if err := command(ctx, p.tc, tbf...); err != nil {
		return nil, unavailable(ctx, err)
	}
	p.rate.Store(int64(rateBps))

	if p.txNet, err = newNSNet(p.tx, delay, &p.offered, nil); err != nil {
		return nil, err
	}
	if p.rxNet, err = newNSNet(p.rx, delay, nil, &p.delivered); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *netnsPath) configure(se *webrtc.SettingEngine, tx bool) error {
	if tx {
		se.SetNet(p.txNet)
	} else {
		se.SetNet(p.rxNet)
	}
	return nil
}

// setRate changes the tbf's rate and its byte limit, so that the queue keeps
// holding queueLimit worth of data. The kernel refills the token bucket on
// every change.
func (p *netnsPath) setRate(rateBps int) error {
	if p.rate.Load() == int64(rateBps) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
	defer cancel()
	args := append([]string{"-n", p.tx, "qdisc", "change", "dev", netnsDev, "root"}, tbfArgs(rateBps, queueBytes(rateBps, p.queueLimit))...)
	if err := command(ctx, p.tc, args...); err != nil {
		return err
	}
	p.rate.Store(int64(rateBps))
	return nil
}

func (p *netnsPath) counters() (rateBps int, offered, delivered int64) {
	return int(p.rate.Load()), p.offered.Load(), p.delivered.Load()
}

// qdiscStats are the tbf's counters as `tc -s qdisc show` gives them.
type qdiscStats struct {
	SentBytes, SentPackets, Dropped int64
}

// stats reads the tbf's counters.
func (p *netnsPath) stats(ctx context.Context) (qdiscStats, error) {
	out, err := exec.CommandContext(ctx, p.tc, "-s", "-n", p.tx, "qdisc", "show", "dev", netnsDev).CombinedOutput()
	if err != nil {
		return qdiscStats{}, fmt.Errorf("peertest: tc -s qdisc show: %w: %s", err, bytes.TrimSpace(out))
	}
	var st qdiscStats
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Sent ") {
			continue
		}
		if _, err := fmt.Sscanf(line, "Sent %d bytes %d pkt (dropped %d,", &st.SentBytes, &st.SentPackets, &st.Dropped); err != nil {
			return qdiscStats{}, fmt.Errorf("peertest: tc -s qdisc show: %q: %w", line, err)
		}
		return st, nil
	}
	return qdiscStats{}, fmt.Errorf("peertest: tc -s qdisc show: no counters in %q", out)
}

// close closes the peers' sockets and deletes the namespaces, which takes
// the veth pair and the qdisc with them.
func (p *netnsPath) close() error {
	var errs []error
	for _, n := range []*nsNet{p.txNet, p.rxNet} {
		if n != nil {
			errs = append(errs, n.close())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
	defer cancel()
	for _, name := range p.created {
		errs = append(errs, command(ctx, p.ip, "netns", "del", name))
	}
	p.created = nil
	return errors.Join(errs...)
}

// nsNet is a transport.Net whose sockets live in one network namespace. A
// socket stays in the namespace it was made in, whichever thread uses it
// later; nsNet makes each one on a new OS thread that joins the namespace
// (setns) and is never handed back to the runtime. Its interface list is
// the namespace's, read on such a thread when the Net is made.
//
// Every UDP socket it makes holds what it is given to send for delay
// before sending it (see delayLine), and adds the UDP payload bytes it
// sends to written and those it reads to read (either may be nil).
type nsNet struct {
	*stdnet.Net
	ns      *os.File
	delay   time.Duration
	written *atomic.Int64
	read    *atomic.Int64

	mu     sync.Mutex
	conns  []*udpConn
	closed bool
}

var _ transport.Net = (*nsNet)(nil)

// newNSNet opens the namespace that `ip netns add name` made.
func newNSNet(name string, delay time.Duration, written, read *atomic.Int64) (*nsNet, error) {
	f, err := os.Open(filepath.Join(netnsRunDir, name))
	if err != nil {
		return nil, fmt.Errorf("peertest: namespace %s: %w", name, err)
	}
	n := &nsNet{ns: f, delay: delay, written: written, read: read}
	if err := n.do(func() (err error) {
		n.Net, err = stdnet.NewNet()
		return err
	}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("peertest: interfaces of namespace %s: %w", name, err)
	}
	return n, nil
}

// do runs f on a new OS thread that has joined the namespace. The thread
// stays locked to its goroutine, so that the runtime ends it with the
// goroutine rather than run other goroutines on it in the namespace.
func (n *nsNet) do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(n.ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("peertest: setns %s: %w", n.ns.Name(), err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// ListenPacket makes a packet socket in the namespace; UDP ones have the
// delay line and the counters.
func (n *nsNet) ListenPacket(network, address string) (net.PacketConn, error) {
	var c net.PacketConn
	if err := n.do(func() (err error) {
		c, err = net.ListenPacket(network, address)
		return err
	}); err != nil {
		return nil, err
	}
	if u, ok := c.(*net.UDPConn); ok {
		return n.wrap(u)
	}
	return c, nil
}

// ListenUDP makes a UDP socket in the namespace.
func (n *nsNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	var c *net.UDPConn
	if err := n.do(func() (err error) {
		c, err = net.ListenUDP(network, laddr)
		return err
	}); err != nil {
		return nil, err
	}
	return n.wrap(c)
}

// ListenTCP makes a TCP listener in the namespace; the connections it
// accepts are in the namespace too.
func (n *nsNet) ListenTCP(network string, laddr *net.TCPAddr) (transport.TCPListener, error) {
	var l *net.TCPListener
	if err := n.do(func() (err error) {
		l, err = net.ListenTCP(network, laddr)
		return err
	}); err != nil {
		return nil, err
	}
	return tcpListener{l}, nil
}

// Dial connects from the namespace. Host names are resolved on the
// resolver's own threads, outside the namespace: give addresses.
func (n *nsNet) Dial(network, address string) (net.Conn, error) {
	return n.dial(&net.Dialer{}, network, address)
}

func (n *nsNet) dial(d *net.Dialer, network, address string) (net.Conn, error) {
	var c net.Conn
	if err := n.do(func() (err error) {
		c, err = d.Dial(network, address)
		return err
	}); err != nil {
		return nil, err
	}
	if u, ok := c.(*net.UDPConn); ok {
		return n.wrap(u)
	}
	return c, nil
}

// DialUDP makes a connected UDP socket in the namespace.
func (n *nsNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	var c *net.UDPConn
	if err := n.do(func() (err error) {
		c, err = net.DialUDP(network, laddr, raddr)
		return err
	}); err != nil {
		return nil, err
	}
	return n.wrap(c)
}

// DialTCP connects a TCP socket from the namespace.
func (n *nsNet) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	var c *net.TCPConn
	if err := n.do(func() (err error) {
		c, err = net.DialTCP(network, laddr, raddr)
		return err
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// CreateDialer returns a Dialer that dials from the namespace.
func (n *nsNet) CreateDialer(d *net.Dialer) transport.Dialer {
	return nsDialer{n, d}
}

// CreateListenConfig returns a ListenConfig that listens in the namespace.
func (n *nsNet) CreateListenConfig(lc *net.ListenConfig) transport.ListenConfig {
	return nsListenConfig{n, lc}
}

type nsDialer struct {
	n *nsNet
	d *net.Dialer
}

func (d nsDialer) Dial(network, address string) (net.Conn, error) {
	return d.n.dial(d.d, network, address)
}

type nsListenConfig struct {
	n  *nsNet
	lc *net.ListenConfig
}

func (l nsListenConfig) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := l.n.do(func() (err error) {
		ln, err = l.lc.Listen(ctx, network, address)
		return err
	})
	return ln, err
}

func (l nsListenConfig) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	var c net.PacketConn
	if err := l.n.do(func() (err error) {
		c, err = l.lc.ListenPacket(ctx, network, address)
		return err
	}); err != nil {
		return nil, err
	}
	if u, ok := c.(*net.UDPConn); ok {
		return l.n.wrap(u)
	}
	return c, nil
}

type tcpListener struct {
	*net.TCPListener
}

func (l tcpListener) AcceptTCP() (transport.TCPConn, error) {
	return l.TCPListener.AcceptTCP()
}

// wrap forces c's socket buffers to socketBufferBytes, puts a delay line in
// front of it and keeps it to close with the Net.
func (n *nsNet) wrap(c *net.UDPConn) (*udpConn, error) {
	if err := forceBuffers(c); err != nil {
		_ = c.Close()
		return nil, err
	}
	u := &udpConn{c: c, read: n.read}
	u.line = newDelayLine(c, n.delay, n.written)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		_ = u.Close()
		return nil, net.ErrClosed
	}
	n.conns = append(n.conns, u)
	return u, nil
}

// forceBuffers sets c's send and receive buffers to socketBufferBytes,
// beyond the system's maximum (SO_SNDBUFFORCE and SO_RCVBUFFORCE need
// CAP_NET_ADMIN).
func forceBuffers(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("peertest: socket buffers: %w", err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE} {
			if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, socketBufferBytes); err != nil {
				serr = err
				return
			}
		}
	}); err != nil {
		return fmt.Errorf("peertest: socket buffers: %w", err)
	}
	if serr != nil {
		return fmt.Errorf("peertest: socket buffers: %w", serr)
	}
	return nil
}

// close closes every socket the Net made that is still open and the
// namespace's handle.
func (n *nsNet) close() error {
	n.mu.Lock()
	conns := n.conns
	n.conns, n.closed = nil, true
	n.mu.Unlock()
	var errs []error
	for _, c := range conns {
		if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.ns.Close())
	return errors.Join(errs...)
}

// udpConn is a UDP socket of an nsNet: its writes go through a delay line,
// its reads are counted. It forwards the methods of transport.UDPConn only,
// so that pion's ICE uses its ReadFrom and WriteTo rather than the socket's
// own.
type udpConn struct {
	c    *net.UDPConn
	line *delayLine
	read *atomic.Int64 // may be nil

	closeOnce sync.Once
	closeErr  error
}

var (
	_ transport.UDPConn = (*udpConn)(nil)
	_ net.PacketConn    = (*udpConn)(nil)
	_ net.Conn          = (*udpConn)(nil)
)

// Close stops the delay line, dropping what it holds, and closes the socket.
func (u *udpConn) Close() error {
	u.closeOnce.Do(func() {
		u.line.stop()
		u.closeErr = u.c.Close()
		<-u.line.exited
	})
	return u.closeErr
}

func (u *udpConn) LocalAddr() net.Addr                { return u.c.LocalAddr() }
func (u *udpConn) RemoteAddr() net.Addr               { return u.c.RemoteAddr() }
func (u *udpConn) SetDeadline(t time.Time) error      { return u.c.SetDeadline(t) }
func (u *udpConn) SetReadDeadline(t time.Time) error  { return u.c.SetReadDeadline(t) }
func (u *udpConn) SetWriteDeadline(t time.Time) error { return u.c.SetWriteDeadline(t) }
func (u *udpConn) SetReadBuffer(n int) error          { return u.c.SetReadBuffer(n) }
func (u *udpConn) SetWriteBuffer(n int) error         { return u.c.SetWriteBuffer(n) }

func (u *udpConn) count(n int) {
	if n > 0 && u.read != nil {
		u.read.Add(int64(n))
	}
}

func (u *udpConn) Read(b []byte) (int, error) {
	n, err := u.c.Read(b)
	u.count(n)
	return n, err
}

func (u *udpConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := u.c.ReadFrom(b)
	u.count(n)
	return n, addr, err
}

func (u *udpConn) ReadFromUDP(b []byte) (int, *net.UDPAddr, error) {
	n, addr, err := u.c.ReadFromUDP(b)
	u.count(n)
	return n, addr, err
}

func (u *udpConn) ReadMsgUDP(b, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	n, oobn, flags, addr, err = u.c.ReadMsgUDP(b, oob)
	u.count(n)
	return n, oobn, flags, addr, err
}

// Write, WriteTo, WriteToUDP and WriteMsgUDP copy the datagram into the
// delay line and report it all written; the socket sends it when its delay
// has passed. Errors of that send are counted by the line, not returned.
func (u *udpConn) Write(b []byte) (int, error) {
	n, _, err := u.send(b, nil, nil, "write")
	return n, err
}

func (u *udpConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Source: u.c.LocalAddr(), Addr: addr, Err: syscall.EINVAL}
	}
	n, _, err := u.send(b, nil, ua, "write")
	return n, err
}

func (u *udpConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	n, _, err := u.send(b, nil, addr, "write")
	return n, err
}

func (u *udpConn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (n, oobn int, err error) {
	return u.send(b, oob, addr, "writemsg")
}

// send checks the destination as the socket would (a connected socket
// takes none, an unconnected one needs one) and queues the datagram.
func (u *udpConn) send(b, oob []byte, addr *net.UDPAddr, op string) (int, int, error) {
	connected := u.c.RemoteAddr() != nil
	var err error
	switch {
	case connected && addr != nil:
		err = net.ErrWriteToConnected
	case !connected && addr == nil:
		err = syscall.EDESTADDRREQ
	}
	if err != nil {
		var a net.Addr
		if addr != nil {
			a = addr
		}
		return 0, 0, &net.OpError{Op: op, Net: "udp", Source: u.c.LocalAddr(), Addr: a, Err: err}
	}
	d := datagram{b: bytes.Clone(b), addr: addr}
	if len(oob) > 0 {
		d.oob = bytes.Clone(oob)
	}
	if err := u.line.push(d); err != nil {
		return 0, 0, &net.OpError{Op: op, Net: "udp", Source: u.c.LocalAddr(), Err: err}
	}
	return len(b), len(oob), nil
}

// datagram is one send held by a delay line.
type datagram struct {
	due    time.Time
	b, oob []byte
	addr   *net.UDPAddr // nil on a connected socket
}

// delayLine sends the datagrams written to a socket, in order, each delay
// after it was written, from a goroutine of its own. It records how late it
// sends (the wake-up delay of its timer) and the sends that fail.
type delayLine struct {
	conn    *net.UDPConn
	delay   time.Duration
	written *atomic.Int64 // UDP payload bytes sent; may be nil

	queue    chan datagram
	done     chan struct{}
	exited   chan struct{}
	stopOnce sync.Once

	sent, failed atomic.Int64
	lateMax      atomic.Int64 // nanoseconds
	lateSum      atomic.Int64 // nanoseconds
}

func newDelayLine(c *net.UDPConn, delay time.Duration, written *atomic.Int64) *delayLine {
	l := &delayLine{
		conn:    c,
		delay:   delay,
		written: written,
		queue:   make(chan datagram, delayLineSlots),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	go l.run()
	return l
}

// push stamps d due delay from now and queues it; it waits while the line
// is full, and fails once the line is stopped.
func (l *delayLine) push(d datagram) error {
	d.due = time.Now().Add(l.delay)
	select {
	case <-l.done:
		return net.ErrClosed
	default:
	}
	select {
	case l.queue <- d:
		return nil
	case <-l.done:
		return net.ErrClosed
	}
}

func (l *delayLine) stop() {
	l.stopOnce.Do(func() { close(l.done) })
}

func (l *delayLine) run() {
	defer close(l.exited)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var d datagram
		select {
		case <-l.done:
			return
		case d = <-l.queue:
		}
		if wait := time.Until(d.due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-l.done:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		late := int64(time.Since(d.due))
		l.lateSum.Add(late)
		if late > l.lateMax.Load() {
			l.lateMax.Store(late)
		}
		n, _, err := l.conn.WriteMsgUDP(d.b, d.oob, d.addr)
		if err != nil {
			l.failed.Add(1)
			continue
		}
		l.sent.Add(1)
		if l.written != nil {
			l.written.Add(int64(n))
		}
	}
}
