using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// Explicit Congestion Notification (RFC 3168) as Linux with its default net.ipv4.tcp_ecn = 2: a connection uses ECN
// when the peer asks for it in its SYN, and an active open does not ask. Then:
// - our new data segments leave ECT(0); ACKs, retransmissions and the SYN-ACK leave Not-ECT (tcp_ecn_send);
// - a CE mark on received data sets ECE on every segment we send until a segment of the peer's carries CWR
//   (tcp_ecn_check_ce, tcp_ecn_accept_cwr);
// - an ECE from the peer cuts the congestion window once per window of data, as a loss would, and our next new
//   data segment carries CWR (tcp_enter_cwr). Linux then lowers cwnd towards ssthresh by PRR; here it goes to
//   ssthresh at once, which is RFC 3168 §6.1.2's rule.
public sealed partial class TcpConnection
{
    private const byte NotEct = 0;
    private const byte Ect0 = 2;
    private const byte CongestionExperienced = 3;

    private bool _ecn;
    // A CE mark arrived: ECE on what we send until the peer's CWR (Linux's TCP_ECN_DEMAND_CWR).
    private bool _ecnEchoing;
    // The window was cut: the next new data segment tells the peer with CWR (TCP_ECN_QUEUE_CWR).
    private bool _ecnCwrQueued;
    // ECT has been seen on the peer's data (TCP_ECN_SEEN): a later Not-ECT segment is likely a retransmission.
    private bool _ecnSeen;
    // The window was cut for an ECE and SND.UNA has not yet passed what was in flight then (Linux's CWR state).
    private bool _ecnReducing;
    private uint _ecnReduceEnd;

    /// <summary>True when the connection negotiated ECN (RFC 3168 §6.1.1).</summary>
    public bool EcnEnabled => _ecn;

    /// <summary>
    /// Whether a SYN asks for ECN in a way Linux accepts (tcp_ecn_create_request): ECE and CWR both set, and the SYN
    /// itself not ECN-capable (RFC 3168 §6.1.1 forbids ECT on a SYN).
    /// </summary>
    internal static bool SynRequestsEcn(ref TcpSegment syn) =>
        syn.Has(TcpFlags.Ece) && syn.Has(TcpFlags.Cwr) && syn.Ecn == NotEct;

    private void ResetEcn(bool enabled)
    {
        _ecn = enabled;
        _ecnEchoing = false;
        _ecnCwrQueued = false;
        _ecnSeen = false;
        _ecnReducing = false;
    }

    // A segment that takes sequence space reached the data step (Linux's tcp_data_queue): its CWR ends our echo.
    private void AcceptCongestionWindowReduced(ref TcpSegment seg)
    {
        if (!_ecn || !seg.Has(TcpFlags.Cwr))
            return;
        _ecnEchoing = false;
        // The sender's window may now be a single segment: do not hold its ACK back, nor make it wait for the
        // application (Linux's ICSK_ACK_NOW, even in ping-pong mode).
        _ackNow = true;
        _dataAckNow = true;
    }

    // New data arrived, in order or not (tcp_ecn_check_ce).
    private void CheckCongestionExperienced(ref TcpSegment seg)
    {
        if (!_ecn)
            return;
        switch (seg.Ecn)
        {
            case NotEct:
                if (_ecnSeen)
                    EnterQuickAckMode(2);
                break;
            case CongestionExperienced:
                if (!_ecnEchoing)
                {
                    // The sender may have a small window: ACK the next segments at once.
                    EnterQuickAckMode(2);
                    _ecnEchoing = true;
                    Nic.Stats.Add(_worker.Index, StatCounter.TcpEcnCongestionExperienced);
                }
                _ecnSeen = true;
                break;
            default:
                _ecnSeen = true;
                break;
        }
    }

    // An acceptable ACK with ECE: cut the window once per window of data (tcp_enter_cwr), unless a recovery from
    // loss, by duplicate ACKs or a timeout, already did and has not ended.
    private void OnEcnEcho()
    {
        if (!_ecn || _ecnReducing || _inRecovery || LessThan(_sndUna, _recover))
            return;
        // tcp_enter_cwr: PRR takes cwnd down to the new ssthresh over the next round trip (ProcessAck), from this ACK on.
        StartWindowReduction();
        _ssthresh = SlowStartThresholdAfterLoss();
        _ecnReducing = true;
        _ecnReduceEnd = _sndMax;
        QueueCongestionWindowReduced();
        Nic.Stats.Add(_worker.Index, StatCounter.TcpEcnWindowReductions);
    }

    // After SND.UNA advanced: the reduction ends once the peer acknowledged past what was in flight when it began
    // (Linux waits for more than high_seq, so that the CWR has reached the receiver), with cwnd at ssthresh.
    private void EndEcnReductionIfDone()
    {
        if (_ecnReducing && GreaterThan(_sndUna, _ecnReduceEnd))
        {
            _ecnReducing = false;
            _cwnd = Math.Max(_ssthresh, _mss);
        }
    }

    // Every cut of the window is announced to an ECN peer: an ECE's, a fast recovery's and a timeout's (Linux's
    // tcp_ecn_queue_cwr in tcp_init_cwnd_reduction and tcp_enter_loss).
    private void QueueCongestionWindowReduced()
    {
        if (_ecn)
            _ecnCwrQueued = true;
    }

    // The ECN flags and IP ECN field of an outgoing segment (tcp_ecn_send, tcp_ecn_make_synack).
    private byte EcnFor(ref TcpFlags flags, uint sequence, int length)
    {
        if (!_ecn)
            return NotEct;
        if ((flags & TcpFlags.Syn) != 0)
        {
            // The SYN-ACK of a connection that negotiated ECN: ECE alone, and Not-ECT.
            flags |= TcpFlags.Ece;
            return NotEct;
        }
        byte field = NotEct;
        if (length > 0 && !LessThan(sequence, _sndMax))
        {
            field = Ect0;
            if (_ecnCwrQueued)
            {
                _ecnCwrQueued = false;
                flags |= TcpFlags.Cwr;
            }
        }
        if (_ecnEchoing)
            flags |= TcpFlags.Ece;
        return field;
    }
}
