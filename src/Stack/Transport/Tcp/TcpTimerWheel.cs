namespace XdpStack.Stack.Transport.Tcp;

/// <summary>One worker's TCP timers as a hashed timing wheel: 4,096 slots of 1 ms, each a list of the connections whose earliest deadline falls in it.</summary>
/// <remarks>
/// <para>
/// A worker serving tens of thousands of short connections holds as many timers (TIME_WAIT alone is 2 MSL, and the
/// table keeps up to <see cref="TcpSettings.MaxTimeWait"/>), and some timer is due almost every millisecond. Walking
/// every connection whenever one was due cost the worker more than the connections themselves; here a poll visits
/// only the slots of the milliseconds that passed. A deadline past the wheel's 4.1 s sits in its slot through
/// earlier turns and is passed over until its turn comes (TIME_WAIT's 60 s: 15 visits).
/// </para>
/// <para>
/// Rescheduling is lazy: a deadline that moves later leaves the connection where it is, and when its slot comes the
/// connection is filed again under its new earliest deadline (or not at all when none is armed); only a deadline that
/// moves earlier moves it at once. Deadlines fire up to a millisecond late, finer than Linux's jiffies. Worker thread
/// only; no allocation.
/// </para>
/// </remarks>
internal sealed class TcpTimerWheel
{
    private const int SlotBits = 12;
    private const int Slots = 1 << SlotBits;
    private const int SlotMask = Slots - 1;
    private const long TickMicroseconds = 1000;

    private readonly TcpConnection?[] _slots = new TcpConnection?[Slots];
    private long _tick;   // every slot up to this tick has been visited
    private int _count;

    /// <summary>Creates a wheel whose first poll starts at <paramref name="nowUs"/>.</summary>
    public TcpTimerWheel(long nowUs) => _tick = nowUs / TickMicroseconds;

    /// <summary>Connections filed in the wheel.</summary>
    public int Count => _count;

    /// <summary>Files <paramref name="connection"/> for a deadline at <paramref name="atUs"/>, unless it is already filed for one no later.</summary>
    public void Schedule(TcpConnection connection, long atUs)
    {
        if (connection.TimerSlot >= 0)
        {
            if (atUs >= connection.TimerAt)
                return;
            Unlink(connection);
        }
        Link(connection, atUs);
    }

    /// <summary>Takes <paramref name="connection"/> out of the wheel (it leaves the table).</summary>
    public void Cancel(TcpConnection connection)
    {
        if (connection.TimerSlot >= 0)
            Unlink(connection);
    }

    /// <summary>Runs the timers of every connection filed in the milliseconds up to <paramref name="nowUs"/> whose deadline has come, and files each again under its next one.</summary>
    public void Poll(long nowUs)
    {
        long target = nowUs / TickMicroseconds;
        if (target <= _tick)
            return;
        // After a long pause every slot once; connections filed during the walk go to the tick after target, whose
        // slot is not among those still to visit.
        long from = Math.Max(_tick + 1, target - Slots + 1);
        _tick = target;
        if (_count == 0)
            return;
        for (long tick = from; tick <= target; tick++)
        {
            int slot = (int)(tick & SlotMask);
            TcpConnection? connection = _slots[slot];
            while (connection is not null)
            {
                TcpConnection? next = connection.TimerNext;
                if (connection.TimerAt <= nowUs)
                {
                    Unlink(connection);
                    if (connection.NextDeadline <= nowUs)
                        connection.OnTimers(nowUs);
                    // OnTimers may have released it, or armed deadlines (filing it again itself).
                    if (connection.State != TcpState.Closed && connection.TimerSlot < 0)
                    {
                        long deadline = connection.NextDeadline;
                        if (deadline != long.MaxValue)
                            Link(connection, deadline);
                    }
                    // A timer that ended another connection (through an application) may have taken the next one out
                    // of this slot: start the slot again; what was done is filed elsewhere or not yet due.
                    if (next is not null && next.TimerSlot != slot)
                        next = _slots[slot];
                }
                else if (connection.TimerAt / TickMicroseconds <= target)
                {
                    // Due later in this millisecond, which is now marked visited: the next poll's slot takes it.
                    Unlink(connection);
                    Link(connection, connection.TimerAt);
                }
                connection = next;
            }
        }
    }

    /// <summary>
    /// Microseconds from <paramref name="nowUs"/> to the earliest deadline filed within <paramref name="horizonUs"/>
    /// (<paramref name="horizonUs"/> when none is): the slots of the coming milliseconds, each list walked for a deadline
    /// of this turn. A deadline that moved later since it was filed counts at its old time, which only wakes a
    /// sleeping worker early.
    /// </summary>
    public long MicrosecondsUntilNext(long nowUs, long horizonUs)
    {
        if (_count == 0)
            return horizonUs;
        long last = Math.Min((nowUs + horizonUs) / TickMicroseconds, _tick + Slots);
        for (long tick = _tick + 1; tick <= last; tick++)
        {
            for (TcpConnection? c = _slots[(int)(tick & SlotMask)]; c is not null; c = c.TimerNext)
            {
                if (c.TimerAt / TickMicroseconds <= tick)
                    return Math.Clamp(c.TimerAt - nowUs, 0, horizonUs);
            }
        }
        return horizonUs;
    }

    private void Link(TcpConnection connection, long atUs)
    {
        // Never into a slot already visited: a deadline in a past tick fires at the next one.
        long tick = Math.Max(atUs / TickMicroseconds, _tick + 1);
        int slot = (int)(tick & SlotMask);
        TcpConnection? head = _slots[slot];
        connection.TimerAt = atUs;
        connection.TimerSlot = slot;
        connection.TimerPrevious = null;
        connection.TimerNext = head;
        if (head is not null)
            head.TimerPrevious = connection;
        _slots[slot] = connection;
        _count++;
    }

    private void Unlink(TcpConnection connection)
    {
        if (connection.TimerPrevious is not null)
            connection.TimerPrevious.TimerNext = connection.TimerNext;
        else
            _slots[connection.TimerSlot] = connection.TimerNext;
        if (connection.TimerNext is not null)
            connection.TimerNext.TimerPrevious = connection.TimerPrevious;
        connection.TimerPrevious = null;
        connection.TimerNext = null;
        connection.TimerSlot = -1;
        _count--;
    }
}
