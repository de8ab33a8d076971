package peertest

import (
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v4/vnet"
	"github.com/pion/webrtc/v4"
)

// Addresses of the emulated network. The public addresses are taken from
// TEST-NET-2 (RFC 5737); each peer sits behind a 1:1 NAT so that the
// bottleneck can wrap the receiver's router as a NIC of the WAN.
const (
	senderPublicIP    = "198.51.100.1"
	senderPrivateIP   = "10.0.1.2"
	receiverPublicIP  = "198.51.100.2"
	receiverPrivateIP = "10.0.2.2"
)

// tbfBurstBytes is the token-bucket depth of the bottleneck. It must hold the
// largest datagram (vnet's MTU is 1500 bytes), or that datagram would wait
// forever; two full datagrams keep the burst below 1 % of a 1 Mbps second.
const tbfBurstBytes = 2 * 1500

// minQueueBytes is the smallest drop-tail bound, so that a very low rate still
// queues a couple of full datagrams.
const minQueueBytes = 2 * 1500

// path is a WAN with a one-way delay in each direction and a rate-limited
// drop-tail bottleneck on the sender → receiver direction only.
//
//	sender Net ─ NAT ─┐                       ┌─ Queue(TBF) ─ NAT ─ receiver Net
//	                  └─ WAN (MinDelay) ──────┘
//
// The receiver → sender direction has the delay and no rate limit.
type path struct {
	wan        *vnet.Router
	txRouter   *vnet.Router
	rxRouter   *vnet.Router
	tbf        *vnet.TBFQueue
	queue      *vnet.Queue
	txNet      *vnet.Net
	rxNet      *vnet.Net
	queueLimit time.Duration

	rate      atomic.Int64 // current bottleneck rate, bits per second
	offered   atomic.Int64 // UDP payload bytes that reached the bottleneck
	delivered atomic.Int64 // UDP payload bytes that left the bottleneck
}

func newPath(delay, queueLimit time.Duration, rateBps int, lf logging.LoggerFactory) (*path, error) {
	p := &path{queueLimit: queueLimit}

	var err error
	p.wan, err = vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "0.0.0.0/0",
		MinDelay:      delay,
		LoggerFactory: lf,
	})
	if err != nil {
		return nil, fmt.Errorf("peertest: wan router: %w", err)
	}
	nat := &vnet.NATType{Mode: vnet.NATModeNAT1To1}
	p.txRouter, err = vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "10.0.1.0/24",
		StaticIPs:     []string{senderPublicIP + "/" + senderPrivateIP},
		NATType:       nat,
		LoggerFactory: lf,
	})
	if err != nil {
		return nil, fmt.Errorf("peertest: sender router: %w", err)
	}
	p.rxRouter, err = vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "10.0.2.0/24",
		StaticIPs:     []string{receiverPublicIP + "/" + receiverPrivateIP},
		NATType:       nat,
		LoggerFactory: lf,
	})
	if err != nil {
		return nil, fmt.Errorf("peertest: receiver router: %w", err)
	}

	if err := p.wan.AddRouter(p.txRouter); err != nil {
		return nil, fmt.Errorf("peertest: attach sender router: %w", err)
	}
	p.tbf = vnet.NewTBFQueue(rateBps, tbfBurstBytes, p.queueBytes(rateBps))
	p.rate.Store(int64(rateBps))
	p.queue, err = vnet.NewQueue(p.rxRouter, p.tbf)
	if err != nil {
		return nil, fmt.Errorf("peertest: bottleneck queue: %w", err)
	}
	// AddNet must precede AddChildRouter (vnet's contract for wrapped NICs).
	if err := p.wan.AddNet(p.queue); err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: attach bottleneck: %w", err)
	}
	if err := p.wan.AddChildRouter(p.rxRouter); err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: attach receiver router: %w", err)
	}

	rxPublic := net.ParseIP(receiverPublicIP)
	p.wan.AddChunkFilter(func(c vnet.Chunk) bool {
		if dst, ok := c.DestinationAddr().(*net.UDPAddr); ok && dst.IP.Equal(rxPublic) {
			p.offered.Add(int64(len(c.UserData())))
		}
		return true
	})
	rxPrivate := net.ParseIP(receiverPrivateIP)
	p.rxRouter.AddChunkFilter(func(c vnet.Chunk) bool {
		if dst, ok := c.DestinationAddr().(*net.UDPAddr); ok && dst.IP.Equal(rxPrivate) {
			p.delivered.Add(int64(len(c.UserData())))
		}
		return true
	})

	p.txNet, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{senderPrivateIP}})
	if err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: sender net: %w", err)
	}
	if err := p.txRouter.AddNet(p.txNet); err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: attach sender net: %w", err)
	}
	p.rxNet, err = vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{receiverPrivateIP}})
	if err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: receiver net: %w", err)
	}
	if err := p.rxRouter.AddNet(p.rxNet); err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: attach receiver net: %w", err)
	}

	if err := p.wan.Start(); err != nil {
		p.closeQueue()
		return nil, fmt.Errorf("peertest: start wan: %w", err)
	}
	return p, nil
}

// queueBytes converts the drop-tail bound from time to bytes at rateBps.
func (p *path) queueBytes(rateBps int) int64 {
	return queueBytes(rateBps, p.queueLimit)
}

// queueBytes is limit worth of data at rateBps, in bytes, and at least
// minQueueBytes.
func queueBytes(rateBps int, limit time.Duration) int64 {
	b := int64(rateBps) * limit.Microseconds() / (8 * 1_000_000)
	return max(b, minQueueBytes)
}

// setRate changes the bottleneck rate and rescales the queue bound so that it
// keeps holding queueLimit worth of data.
func (p *path) setRate(rateBps int) error {
	if p.rate.Swap(int64(rateBps)) == int64(rateBps) {
		return nil
	}
	p.tbf.SetRate(rateBps)
	p.tbf.SetSize(p.queueBytes(rateBps))
	return nil
}

func (p *path) counters() (rateBps int, offered, delivered int64) {
	return int(p.rate.Load()), p.offered.Load(), p.delivered.Load()
}

// configure gives the sender (tx) or the receiver its vnet.Net and
// advertises its NAT's public address as its host candidate.
func (p *path) configure(se *webrtc.SettingEngine, tx bool) error {
	n, publicIP := p.rxNet, receiverPublicIP
	if tx {
		n, publicIP = p.txNet, senderPublicIP
	}
	se.SetNet(n)
	if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
		External:        []string{publicIP},
		AsCandidateType: webrtc.ICECandidateTypeHost,
		Mode:            webrtc.ICEAddressRewriteReplace,
	}); err != nil {
		return fmt.Errorf("peertest: address rewrite: %w", err)
	}
	return nil
}

func (p *path) closeQueue() {
	_ = p.queue.Close()
}

// close stops the routers (the WAN stops its children) and the bottleneck.
func (p *path) close() error {
	errStop := p.wan.Stop()
	errQueue := p.queue.Close()
	return errors.Join(errStop, errQueue)
}
