using XdpStack.Stack.Wire;
using static XdpStack.Stack.Transport.Tcp.TcpSequence;

namespace XdpStack.Stack.Transport.Tcp;

// SACK (RFC 2018) both ways. As receiver: the out-of-order ranges go out as SACK blocks, most recently
// changed first. As sender: a scoreboard of the ranges the peer SACKed, and loss recovery by RFC 6675
// (pipe, NextSeg) that retransmits the holes the scoreboard shows instead of one segment per partial ACK.
// Fixed arrays per connection, allocated with the object and reused with it: nothing per segment.
public sealed partial class TcpConnection
{
    // Ranges the peer SACKed above SND.UNA: sorted, disjoint. When full, the highest range gives way to a lower one
    // (the holes near SND.UNA are the ones recovery needs first).
    private const int ScoreboardRanges = 8;
    // Held inline in the connection object: two arrays would cost their headers and references on every
    // connection (issue 13's bound is 1 KiB per idle connection beside its buffers).
    private ScoreboardEdges _sackedStart;
    private ScoreboardEdges _sackedEnd;
    private int _sackedCount;

    [System.Runtime.CompilerServices.InlineArray(ScoreboardRanges)]
    private struct ScoreboardEdges
    {
        private uint _first;
    }

    // RFC 6675 HighRxt: the end of the highest octet retransmitted in this recovery.
    private uint _highRxt;

    // True while the recovery is RFC 6675's; false for NewReno's (no SACK, or no block seen when it began).
    private bool _sackRecovery;

    // The end of the segment a SACK recovery began with: lost whatever the scoreboard says (Linux marked it so).
    private uint _lostFloor;

    // The peer's ACKs showed reordering (Linux's reord_seen): a segment never sent twice was ACKed or SACKed below
    // one SACKed before it, or a D-SACK came. From then on only RFC 6675's rule and RACK's window call holes lost.
    private bool _reorderSeen;

    // The clock of OutOfOrderRange.Stamp.
    private uint _oooClock;

    // RFC 2883 D-SACK, as Linux with net.ipv4.tcp_dsack = 1: octets that arrived twice, reported once as the first block
    // of the next segment with room for it (tcp_dsack_set, tcp_options_write), so the sender can tell a spurious
    // retransmission from a loss.
    private bool _dsack;
    private uint _dsackStart;
    private uint _dsackEnd;

    private void ResetSack()
    {
        _sackedCount = 0;
        _highRxt = 0;
        _sackRecovery = false;
        _oooClock = 0;
        _dsack = false;
    }

    // Linux's tcp_dsack_set: the newest duplicate replaces one not yet sent.
    private void NoteDuplicate(uint start, uint end)
    {
        if (!_sackPermitted || !LessThan(start, end))
            return;
        _dsack = true;
        _dsackStart = start;
        _dsackEnd = end;
        Nic.Stats.Add(_worker.Index, StatCounter.TcpDsacksSent);
    }

    // Linux's tcp_dsack_extend: a further duplicate of the same segment widens the block it touches.
    private void ExtendDuplicate(uint start, uint end)
    {
        if (!_dsack)
        {
            NoteDuplicate(start, end);
            return;
        }
        if (LessOrEqual(_dsackStart, end) && LessOrEqual(start, _dsackEnd))
        {
            if (LessThan(start, _dsackStart))
                _dsackStart = start;
            if (GreaterThan(end, _dsackEnd))
                _dsackEnd = end;
        }
    }

    // A segment that lies, at least in part, below RCV.NXT and was not taken (Linux's tcp_send_dupack): what it repeats
    // is reported, and the next ACKs go at once.
    private void NoteOldSegment(ref TcpSegment seg)
    {
        uint length = seg.Length;
        if (length == 0 || !LessThan(seg.Sequence, _rcvNxt))
            return;
        EnterQuickAckMode(MaxQuickAcks);
        uint end = seg.Sequence + length;
        NoteDuplicate(seg.Sequence, GreaterThan(end, _rcvNxt) ? _rcvNxt : end);
    }

    // An out-of-order segment over ranges already held (tcp_data_queue_ofo): the octets it repeats.
    private void NoteOutOfOrderDuplicate(uint start, uint end)
    {
        for (int i = 0; i < _oooCount; i++)
        {
            uint from = GreaterThan(_ooo[i].Start, start) ? _ooo[i].Start : start;
            uint to = LessThan(_ooo[i].End, end) ? _ooo[i].End : end;
            if (LessThan(from, to))
                ExtendDuplicate(from, to);
        }
    }

    // The SACK blocks of an outgoing segment: the D-SACK block first, then the out-of-order ranges newest first; 3 fit
    // beside timestamps, 4 without (RFC 2018 §3), and no more than <paramref name="room"/>.
    private TcpSackBlocks ReceiveSackBlocks(int room)
    {
        var blocks = default(TcpSackBlocks);
        int max = Math.Min(room, _timestamps ? 3 : TcpSackBlocks.MaxBlocks);
        if (_dsack && max > 0)
        {
            blocks.Add(_dsackStart, _dsackEnd);
            _dsack = false;
            max--;
        }
        max = Math.Min(max, _oooCount);
        uint taken = 0;
        for (int n = 0; n < max; n++)
        {
            int newest = -1;
            for (int i = 0; i < _oooCount; i++)
            {
                if ((taken & (1u << i)) == 0 && (newest < 0 || GreaterThan(_ooo[i].Stamp, _ooo[newest].Stamp)))
                    newest = i;
            }
            taken |= 1u << newest;
            blocks.Add(_ooo[newest].Start, _ooo[newest].End);
        }
        return blocks;
    }

    // The blocks of an acceptable ACK into the scoreboard; blocks below the ACK (D-SACK, RFC 2883) or beyond what
    // was sent are ignored, as Linux's tcp_is_sackblock_valid does.
    private void TakeSackBlocks(ref TcpSegment seg, uint ack)
    {
        uint una = GreaterThan(ack, _sndUna) ? ack : _sndUna;
        // The highest SACKed octet before this ACK: its blocks come most recent first, not in order (Linux sorts them).
        uint highestBefore = _sackedCount > 0 ? _sackedEnd[_sackedCount - 1] : _sndUna;
        for (int i = 0; i < seg.Sack.Count; i++)
        {
            uint left = seg.Sack.Left(i);
            uint right = seg.Sack.Right(i);
            if (!LessThan(left, right) || LessOrEqual(right, una) || GreaterThan(right, _sndMax) || LessThan(left, _sndUna - _maxSndWnd))
                continue;
            if (LessThan(left, una))
                left = una;
            // Linux's tcp_sacktag_one: newly SACKed data below the highest SACKed octet, never sent twice, came out of order.
            if (!_reorderSeen && LessThan(left, highestBefore) && HasHole(left, LessThan(right, highestBefore) ? right : highestBefore)
                && (_sackRecovery ? GreaterOrEqual(left, _highRxt) : GreaterOrEqual(_sndUna, _recover)))
                _reorderSeen = true;
            AddSacked(left, right);
        }
    }

    // A timeout's go-back-N steps SND.NXT over what the peer SACKed; returns how far it may send from there before
    // the next SACKed range (int.MaxValue when none lies above).
    private int SkipSackedAtSndNxt()
    {
        for (int i = 0; i < _sackedCount; i++)
        {
            if (LessOrEqual(_sackedEnd[i], _sndNxt))
                continue;
            if (LessOrEqual(_sackedStart[i], _sndNxt))
            {
                _sndNxt = _sackedEnd[i];
                continue;
            }
            return (int)(_sackedStart[i] - _sndNxt);
        }
        return int.MaxValue;
    }

    // The SACKed octets below a sequence number.
    private uint SackedBelow(uint sequence)
    {
        uint octets = 0;
        for (int i = 0; i < _sackedCount && LessThan(_sackedStart[i], sequence); i++)
            octets += (LessThan(_sackedEnd[i], sequence) ? _sackedEnd[i] : sequence) - _sackedStart[i];
        return octets;
    }

    // Whether some octet in [from, to) is not in the scoreboard.
    private bool HasHole(uint from, uint to)
    {
        uint at = from;
        for (int i = 0; i < _sackedCount && LessThan(at, to); i++)
        {
            if (LessOrEqual(_sackedEnd[i], at))
                continue;
            if (GreaterThan(_sackedStart[i], at))
                return true;
            at = _sackedEnd[i];
        }
        return LessThan(at, to);
    }

    private void AddSacked(uint start, uint end)
    {
        int i = 0;
        while (i < _sackedCount && LessThan(_sackedEnd[i], start))
            i++;
        if (i < _sackedCount && LessOrEqual(_sackedStart[i], end))
        {
            if (LessThan(start, _sackedStart[i]))
                _sackedStart[i] = start;
            if (GreaterThan(end, _sackedEnd[i]))
                _sackedEnd[i] = end;
            while (i + 1 < _sackedCount && LessOrEqual(_sackedStart[i + 1], _sackedEnd[i]))
            {
                if (GreaterThan(_sackedEnd[i + 1], _sackedEnd[i]))
                    _sackedEnd[i] = _sackedEnd[i + 1];
                RemoveSacked(i + 1);
            }
            return;
        }
        if (_sackedCount == ScoreboardRanges)
        {
            if (i == _sackedCount)
                return;
            _sackedCount--;
        }
        for (int j = _sackedCount; j > i; j--)
        {
            _sackedStart[j] = _sackedStart[j - 1];
            _sackedEnd[j] = _sackedEnd[j - 1];
        }
        _sackedStart[i] = start;
        _sackedEnd[i] = end;
        _sackedCount++;
    }

    private void RemoveSacked(int index)
    {
        for (int j = index; j < _sackedCount - 1; j++)
        {
            _sackedStart[j] = _sackedStart[j + 1];
            _sackedEnd[j] = _sackedEnd[j + 1];
        }
        _sackedCount--;
    }

    // After SND.UNA advanced: what it covers leaves the scoreboard.
    private void TrimScoreboard()
    {
        while (_sackedCount > 0 && LessOrEqual(_sackedEnd[0], _sndUna))
            RemoveSacked(0);
        if (_sackedCount > 0 && LessThan(_sackedStart[0], _sndUna))
            _sackedStart[0] = _sndUna;
    }

    // Which unSACKed octets are lost: those below the returned sequence. RFC 6675's IsLost (DupThresh, 3, SACKed
    // ranges or more than 2 × SMSS SACKed octets above), and RACK's rule as Linux runs it (tcp_rack_detect_loss with
    // tcp_rack_reo_wnd at 0): until the connection has seen reordering, a recovery, or three segments SACKed, make
    // every hole below the highest SACKed range lost, since each was sent before a segment that arrived. The segment
    // a recovery began by retransmitting counts as lost too. SND.UNA when nothing is lost.
    private uint LostBoundary()
    {
        uint boundary = _sndUna;
        int sacked = 0;
        for (int i = _sackedCount - 1; i >= 0; i--)
        {
            sacked += (int)(_sackedEnd[i] - _sackedStart[i]);
            if (sacked > 2 * _mss || _sackedCount - i >= 3)
            {
                boundary = _sackedStart[i];
                break;
            }
        }
        if (_sackedCount > 0 && !_reorderSeen && (_sackRecovery || GreaterThan(boundary, _sndUna)))
            boundary = _sackedStart[_sackedCount - 1];
        if (_sackRecovery && GreaterThan(_lostFloor, boundary))
            boundary = _lostFloor;
        return boundary;
    }

    // RFC 6675 SetPipe: each unSACKed octet in [SND.UNA, SND.MAX) counts once unless lost, and once more if retransmitted.
    private int Pipe()
    {
        uint lost = LostBoundary();
        // HighRxt belongs to the recovery under way; outside one nothing counts as sent twice.
        uint highRxt = _sackRecovery && GreaterThan(_highRxt, _sndUna) ? _highRxt : _sndUna;
        long pipe = 0;
        uint at = _sndUna;
        for (int i = 0; i <= _sackedCount; i++)
        {
            uint holeEnd = i < _sackedCount ? _sackedStart[i] : _sndMax;
            if (GreaterThan(holeEnd, at))
            {
                uint notLostFrom = GreaterThan(lost, at) ? lost : at;
                if (GreaterThan(holeEnd, notLostFrom))
                    pipe += holeEnd - notLostFrom;
                uint retransmittedTo = LessThan(highRxt, holeEnd) ? highRxt : holeEnd;
                if (GreaterThan(retransmittedTo, at))
                    pipe += retransmittedTo - at;
            }
            if (i < _sackedCount && GreaterThan(_sackedEnd[i], at))
                at = _sackedEnd[i];
        }
        return (int)Math.Min(pipe, int.MaxValue);
    }

    // RFC 6675 §5 steps (4.1) and (4.2): the first hole is lost; PRR and NextSeg send it and what follows.
    private void EnterSackRecovery()
    {
        _sackRecovery = true;
        _highRxt = _sndUna;
        _lostFloor = _sackedCount > 0 && LessThan(_sackedStart[0], _sndUna + (uint)_mss) ? _sackedStart[0] : _sndUna + (uint)_mss;
    }

    // RFC 6675 §5 step (C): while cwnd - pipe ≥ 1 SMSS, send what NextSeg picks.
    private void SackTransmit(long nowUs)
    {
        // Each pass sends a segment or stops; the bound only guards against a scoreboard that would never let it stop.
        for (int guard = 0; guard < 256 && _cwnd - Pipe() >= _mss; guard++)
        {
            if (!SendNextSegment(nowUs))
                break;
        }
    }

    // RFC 6675 NextSeg, rules 1 to 3 (no rescue retransmission: the timer covers a lost tail).
    private bool SendNextSegment(long nowUs)
    {
        uint highestSacked = _sackedCount > 0 ? _sackedEnd[_sackedCount - 1] : _sndUna;
        uint s = GreaterThan(_highRxt, _sndUna) ? _highRxt : _sndUna;
        uint nextSacked = highestSacked;
        for (int i = 0; i < _sackedCount; i++)
        {
            if (LessOrEqual(_sackedStart[i], s) && LessThan(s, _sackedEnd[i]))
            {
                s = _sackedEnd[i];
            }
            else if (GreaterThan(_sackedStart[i], s))
            {
                nextSacked = _sackedStart[i];
                break;
            }
        }
        bool hole = LessThan(s, highestSacked);
        uint end = LessThan(s + (uint)_mss, nextSacked) ? s + (uint)_mss : nextSacked;
        // Rule 1: the first lost hole above HighRxt.
        if (hole && LessThan(s, LostBoundary()))
            return RetransmitHole(s, end);
        // Rule 2: new data, as the peer's window allows.
        if (SendNewSegment(nowUs))
            return true;
        // Rule 3: a hole not yet taken for lost.
        return hole && RetransmitHole(s, end);
    }

    private bool RetransmitHole(uint start, uint end)
    {
        if (!RetransmitAt(start, (int)(end - start)))
            return false;
        _highRxt = end;
        return true;
    }

    private bool SendNewSegment(long nowUs)
    {
        if (_tx is null || _sndNxt != _sndMax)
            return false;
        int inFlight = (int)(_sndNxt - _sndUna);
        int unsent = _tx.Count - Math.Min(inFlight, _tx.Count);
        int room = (int)Math.Min(_sndWnd, int.MaxValue) - inFlight;
        int length = Math.Min(Math.Min(_mss, unsent), room);
        if (length <= 0)
            return false;
        SendData(_sndNxt, length, _finQueued && !_finAcked && length == unsent, nowUs);
        return true;
    }

    /// <summary>Sends <paramref name="length"/> octets from <paramref name="sequence"/> again (a hole, or SND.UNA's segment), with the FIN if they end the data and it was sent.</summary>
    private bool RetransmitAt(uint sequence, int length)
    {
        if (_tx is null)
            return false;
        int offset = (int)(sequence - _sndUna);
        int queued = _tx.Count;
        length = Math.Max(0, Math.Min(length, queued - offset));
        bool fin = _finQueued && !_finAcked && offset + length == queued && GreaterThan(_sndMax, FinSequence);
        if (length == 0 && !fin)
            return false;
        _rttTiming = false; // Karn: no sample from a retransmitted segment.
        TcpFlags flags = TcpFlags.Ack | (fin ? TcpFlags.Fin : 0) | PushFor(offset, length);
        Emit(sequence, flags, offset, length);
        NoteRecoveryRetransmission(length);
        NotePrrSent(length);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpRetransmits);
        Nic.Stats.Add(_worker.Index, StatCounter.TcpSackRetransmits);
        return true;
    }
}
