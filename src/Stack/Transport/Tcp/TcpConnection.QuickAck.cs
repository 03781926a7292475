namespace XdpStack.Stack.Transport.Tcp;

// When received data is ACKed at once and when the ACK may wait (Linux's quick-ACK and ping-pong modes,
// tcp_event_data_recv, __tcp_ack_snd_check, tcp_dec_quickack_mode, tcp_event_data_sent, tcp_delack_timer_handler):
// the first data of a connection, and data after a silence longer than the RTO, are ACKed at once for a while
// (so a sender in slow start is not held up by delayed ACKs); a connection that answers each request (ping-pong,
// like a responder) lets its ACKs ride on its answers until a delayed ACK has to go out alone.
public sealed partial class TcpConnection
{
    // Linux's TCP_MAX_QUICKACKS.
    private const int MaxQuickAcks = 16;

    private int _quickAcks;
    private bool _pingPong;
    // When in-order data last arrived (Linux's lrcvtime); negative before the first.
    private long _lastDataReceivedUs;

    private void ResetQuickAck()
    {
        _quickAcks = 0;
        _pingPong = false;
        _lastDataReceivedUs = -1;
    }

    private bool InQuickAckMode => _quickAcks > 0 && !_pingPong;

    // In-order data arrived (tcp_event_data_recv): the first data, or data after more than an RTO of silence,
    // (re)starts quick ACKs, as many as half the window holds full segments (at least 2, at most 16).
    private void NoteDataReceived(long nowUs)
    {
        if (_lastDataReceivedUs < 0 || nowUs - _lastDataReceivedUs > _rtoUs)
        {
            int quick = (int)Math.Min(MaxQuickAcks, ReceiveWindow() / (uint)(2 * Math.Max(_mss, 1)));
            _quickAcks = Math.Max(_quickAcks, quick == 0 ? 2 : quick);
        }
        _lastDataReceivedUs = nowUs;
    }

    // Linux's tcp_enter_quickack_mode: the next ACKs go at once, up to max of them (and no more than half the window
    // holds full segments, but at least 2), and ping-pong ends. A duplicate segment or a CE mark calls for it.
    private void EnterQuickAckMode(int max)
    {
        uint quick = ReceiveWindow() / (uint)(2 * Math.Max(_mss, 1));
        quick = Math.Min(quick == 0 ? 2u : quick, (uint)max);
        _quickAcks = Math.Max(_quickAcks, (int)quick);
        _pingPong = false;
    }

    // An ACK of new data went out (tcp_dec_quickack_mode).
    private void NoteAckSent()
    {
        if (_quickAcks > 0)
            _quickAcks--;
    }

    // New data goes out within a delayed-ACK time of data coming in: the connection answers what it hears, so
    // its ACKs can ride on its answers (tcp_event_data_sent; TCP_PINGPONG_THRESH is 1).
    private void NoteDataSent(long nowUs)
    {
        if (_lastDataReceivedUs >= 0 && nowUs - _lastDataReceivedUs < (long)_worker.Settings.DelayedAck.TotalMicroseconds)
            _pingPong = true;
    }

    // The delayed ACK had to go out by itself: no answer came to carry it, so ping-pong ends (tcp_delack_timer_handler).
    private void NoteDelayedAckFired() => _pingPong = false;
}
