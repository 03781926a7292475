using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// What leaves: data segmented to the MSS within min(peer window, cwnd), the FIN after the data, ACKs
// (at once or delayed), and the segments that carry them.
public sealed partial class TcpConnection
{
    private ushort _advertisedMss;

    /// <summary>The sequence number our FIN takes: just past the queued data.</summary>
    private uint FinSequence => _sndUna + (uint)(_tx?.Count ?? 0);

    // After a segment was processed: send what the window allows, then an ACK if one is still owed.
    internal void AfterInput(long nowUs)
    {
        if (State == TcpState.Closed)
            return;
        bool sent = Flush(nowUs);
        if (_ackNow && !sent)
            SendAck();
        else if (!sent && _rx is not null && _lastAdvertised < (uint)_mss && ReceiveWindow() >= (uint)(2 * _mss))
            SendAck(); // the application drained a closed window: tell the peer (a window update)
    }

    /// <summary>
    /// The size data is cut to: the MSS, but no more than half the largest window the peer offered (all of it when
    /// that is at most 536), as Linux's tcp_bound_to_half_wnd; a peer with a tiny window then gets segments it can take.
    /// </summary>
    private int SegmentSize
    {
        get
        {
            long cutoff = _maxSndWnd > 536 ? _maxSndWnd >> 1 : _maxSndWnd;
            return cutoff > 0 && _mss > cutoff ? Math.Max((int)cutoff, 48 - (_timestamps ? 12 : 0)) : _mss;
        }
    }

    /// <summary>Sends new data and the FIN as far as the windows allow; true when it sent anything (every segment carries the ACK).</summary>
    private bool Flush(long nowUs)
    {
        if (State is TcpState.SynSent or TcpState.SynReceived or TcpState.Closed or TcpState.TimeWait || _tx is null)
            return false;
        bool sent = false;
        uint sndMaxBefore = _sndMax;
        if (_tx.Count > 0)
            RestartWindowAfterIdle(nowUs);
        int mss = SegmentSize;
        while (true)
        {
            // A timeout's go-back-N resends only what the peer has not SACKed.
            bool goingBack = LessThan(_sndNxt, _sndMax);
            int untilSacked = goingBack && _sackedCount > 0 ? SkipSackedAtSndNxt() : int.MaxValue;
            uint inFlight = _sndNxt - _sndUna;
            int queued = _tx.Count;
            int unsent = queued - (int)Math.Min(inFlight, (uint)queued);
            // cwnd bounds what the network holds: SACKed octets have left it (RFC 6675's pipe, Linux's
            // tcp_packets_in_flight), so a SACK lets new data out before any recovery begins. While a timeout's
            // go-back-N resends, all it has not yet resent is lost: only what it resent is in the network. The peer's
            // window bounds everything past SND.UNA.
            uint inNetwork = _sackedCount == 0 ? inFlight : LessThan(_sndNxt, _sndMax) ? inFlight - SackedBelow(_sndNxt) : (uint)Pipe();
            uint room = Math.Min(_sndWnd > inFlight ? _sndWnd - inFlight : 0, (uint)_cwnd > inNetwork ? (uint)_cwnd - inNetwork : 0);
            if (unsent > 0 && room > 0)
            {
                int length = (int)Math.Min((uint)Math.Min(mss, unsent), room);
                // Sender-side silly-window avoidance (RFC 9293 §3.8.6.2.1): no segment cut short while a larger one may
                // soon fit. With nothing in flight only the peer's window cuts it: as Linux's tcp_snd_wnd_test, it then
                // waits for the probe timer, which sends what the window takes. A hole before SACKed data is resent whole.
                if (untilSacked < length)
                    length = untilSacked;
                else if (length < mss && length < unsent)
                    break;
                bool fin = _finQueued && !_finAcked && length == unsent;
                SendData(_sndNxt, length, fin, nowUs);
                sent = true;
                continue;
            }
            // A FIN takes a sequence number, so it waits for room in the window as Linux's does (not for cwnd).
            if (unsent == 0 && _finQueued && !_finAcked && _sndNxt == FinSequence && inFlight < _sndWnd)
            {
                SendData(_sndNxt, 0, true, nowUs);
                sent = true;
            }
            break;
        }
        NoteFlight(unsentLeft: _tx.Count > (int)(_sndNxt - _sndUna));
        // Linux's tcp_write_xmit: new data on the wire moves the probe timeout to two round trips from now.
        if (_sndMax != sndMaxBefore)
            ScheduleLossProbe(nowUs);
        CheckTimers(nowUs);
        return sent;
    }

    private void SendData(uint sequence, int length, bool fin, long nowUs, TcpFlags push = 0)
    {
        push |= PushFor((int)(sequence - _sndUna), length);
        // Linux's forced_push: a long write is pushed at least every half of the largest window the peer offered.
        uint segmentEnd = sequence + (uint)length;
        if (push == 0 && length > 0 && segmentEnd - _pushedSequence > _maxSndWnd / 2)
            push = TcpFlags.Psh;
        if (push != 0)
            _pushedSequence = segmentEnd;
        TcpFlags flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | push;
        bool retransmission = LessThan(sequence, _sndMax);
        // Counted before the segment leaves, so a reader that saw the peer get it never reads a count short of it.
        NicStats stats = Nic.Stats;
        if (retransmission)
            stats.Add(_worker.Index, StatCounter.TcpRetransmits);
        else if (length > 0)
            stats.Add(_worker.Index, StatCounter.TcpBytesSent, length);
        Emit(sequence, flags, (int)(sequence - _sndUna), length);
        NotePrrSent(length);
        uint end = sequence + (uint)length + (fin ? 1u : 0u);
        if (length > 0)
            _lastDataSentUs = nowUs;
        if (!retransmission)
            _lastSegmentStart = sequence;
        if (!retransmission && !_rttTiming && !_timestamps && length > 0)
        {
            _rttTiming = true;
            _rttSequence = end;
            _rttStartUs = nowUs;
        }
        _sndNxt = end;
        if (GreaterThan(end, _sndMax))
            _sndMax = end;
        if (_probeTimer)
            LeaveProbeMode();
        if (_rtoDeadline == 0)
            ArmRto(nowUs);
    }

    /// <summary>Sends the first unacknowledged segment again (fast retransmit, a partial ACK, a timeout), no more of it than the peer's window takes.</summary>
    /// <remarks>
    /// The window may have shrunk below what is in flight, or more may have been queued behind a small one: an MSS
    /// from SND.UNA would land beyond it, and the peer drops what lies there (Linux limits the segment to the window in
    /// tcp_retransmit_skb). A window the peer shut with data in flight gets the whole segment anyway, as Linux's
    /// tcp_retransmit_skb sends SND.UNA's: the peer's answer then shows when the window opens.
    /// </remarks>
    private void Retransmit()
    {
        if (_tx is null)
            return;
        int queued = _tx.Count;
        int mss = SegmentSize;
        int window = _sndWnd == 0 ? mss : (int)Math.Min(_sndWnd, int.MaxValue);
        int length = Math.Min(Math.Min(mss, queued), window);
        // Not into data the peer SACKed (kept across a timeout).
        if (_sackedCount > 0 && GreaterThan(_sackedStart[0], _sndUna))
            length = (int)Math.Min((uint)length, _sackedStart[0] - _sndUna);
        bool fin = _finQueued && !_finAcked && length == queued;
        if (length == 0 && !fin)
            return;
        _rttTiming = false; // Karn: no sample from a retransmitted segment.
        // A segment the window cut short is pushed, as Linux's tcp_write_wakeup pushes what it sends into a small window.
        TcpFlags push = length > 0 && length < Math.Min(mss, queued) ? TcpFlags.Psh : PushFor(0, length);
        TcpFlags flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | push;
        Emit(_sndUna, flags, 0, length);
        NoteRecoveryRetransmission(length);
        NotePrrSent(length);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpRetransmits);
        // Octets past SND.MAX (queued behind a small segment after it went out) leave for the first time: they count as sent.
        uint dataEnd = _sndUna + (uint)length;
        if (GreaterThan(dataEnd, _sndMax))
            Nic.Stats.Add(_worker.Index, StatCounter.TcpBytesSent, dataEnd - _sndMax);
        uint end = dataEnd + (fin ? 1u : 0u);
        if (GreaterThan(end, _sndNxt))
            _sndNxt = end;
        // A segment of up to an MSS may reach past what was ever sent (more was queued since): SND.MAX must cover it,
        // or the peer's ACK of it would look like an ACK of data never sent and be refused for good.
        if (GreaterThan(end, _sndMax))
            _sndMax = end;
    }

    // PSH on the segment that carries the last octet written so far, as Linux marks the tail of what a write queued
    // (tcp_push); the segments before it go without.
    private TcpFlags PushFor(int offset, int length) =>
        length > 0 && _tx is not null && offset + length == _tx.Count ? TcpFlags.Psh : 0;

    internal void SendAck()
    {
        Emit(_sndNxt, TcpFlags.Ack, 0, 0);
    }

    // RFC 5961's challenge ACK, as Linux's tcp_send_challenge_ack: at most one every 500 ms per connection, shared
    // with the ACKs for segments not taken (net.ipv4.tcp_challenge_ack_limit, the host-wide limit, is off by default).
    private void SendChallengeAck(long nowUs)
    {
        if (InvalidAckLimited(nowUs))
            return;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpChallengeAcks);
        SendAck();
    }

    private void SendSynAck() => Emit(_iss, TcpFlags.Syn | TcpFlags.Ack, 0, 0);

    /// <summary>The window we may advertise: the free receive buffer (out-of-order octets sit inside it).</summary>
    private uint ReceiveWindow()
    {
        if (State is TcpState.SynReceived or TcpState.SynSent)
            return (uint)_worker.Settings.ReceiveBufferSize;
        return _rx is null ? _lastAdvertised : (uint)_rx.Free;
    }

    private uint TimestampNow(long nowUs) => TimestampClock(nowUs) + _tsOffset;

    /// <summary>
    /// The window of a SYN or SYN-ACK, as Linux's tcp_select_initial_window picks it: the buffer rounded down to a
    /// whole number of our segments (the MSS we announce, less the timestamps option when a SYN-ACK agrees to it), at
    /// most 65535. With the default 64 KiB buffer that is Linux's own 64240 (a SYN-ACK with timestamps: 65160).
    /// </summary>
    internal static uint SynWindow(int buffer, int advertisedMss, bool timestamps)
    {
        int mss = Math.Max(1, advertisedMss - (timestamps ? 12 : 0));
        int space = buffer > mss ? buffer - (buffer % mss) : buffer;
        return (uint)Math.Min(space, ushort.MaxValue);
    }

    /// <summary>Our timestamp clock before the per-connection offset: milliseconds, as Linux's.</summary>
    internal static uint TimestampClock(long nowUs) => (uint)(nowUs / 1000);

    // Builds one segment in the worker's frame buffer and sends it: every segment we send carries the ACK
    // and the current window, so it clears the pending ACK.
    private void Emit(uint sequence, TcpFlags flags, int dataOffset, int length)
    {
        bool syn = (flags & TcpFlags.Syn) != 0;
        uint window = ReceiveWindow();
        // RFC 7323 §2.2: the window in a SYN is never scaled.
        // A SYN-ACK's segments carry timestamps when agreed; a SYN's count is the plain MSS (Linux's tcp_connect_init).
        uint field = syn ? SynWindow((int)window, _advertisedMss, _timestamps && (flags & TcpFlags.Ack) != 0) : Math.Min(window >> _rcvShift, ushort.MaxValue);
        _lastAdvertised = syn ? field : field << _rcvShift;
        _rcvWup = _rcvNxt;
        byte ecn = EcnFor(ref flags, sequence, length);
        var header = new TcpHeader(LocalPort, RemotePort, sequence, _rcvNxt, flags, (ushort)field);
        long nowUs = _worker.NowMicroseconds();
        if (_timestamps)
            header = header with { Timestamps = new TcpTimestamps(TimestampNow(nowUs), _tsRecent) };
        // The SACK option must not push a full segment past the MSS: blocks go in the room the data leaves (Linux
        // shrinks the data instead; a full segment without blocks is followed soon enough by an ACK with them).
        if (!syn && _sackPermitted && (_oooCount > 0 || _dsack) && (length == 0 || _mss - length >= 12))
            header = header with { SackBlocks = ReceiveSackBlocks(length == 0 ? TcpSackBlocks.MaxBlocks : (_mss - length - 4) / 8) };
        if (syn)
        {
            header = header with
            {
                MaxSegmentSize = _advertisedMss,
                WindowScale = _sndShift != 0 || _rcvShift != 0 || _windowScaleOffered ? (byte)_rcvShift : null,
                SackPermitted = _sackPermitted,
            };
        }
        _worker.SendSegment(this, header, _tx, dataOffset, length, ecn);
        if (_unackedBytes > 0)
            NoteAckSent();
        if (length > 0)
            NoteDataSent(nowUs);
        _ackNow = false;
        _unackedBytes = 0;
        _delayedAckDeadline = 0;
    }

    private bool _windowScaleOffered;

    // The end of the last segment sent with PSH (Linux's pushed_seq).
    private uint _pushedSequence;
}
