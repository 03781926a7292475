using XdpStack.Stack.Transport.Tcp;
using XdpStack.Stack.Transport.Tcp.Services;
using XdpStack.Stack.Wire;
using static XdpStack.Stack.Tests.Transport.Tcp.TcpFixture;

namespace XdpStack.Stack.Tests.Transport.Tcp;

// What Linux answers to segments it does not take (tcp_validate_incoming, tcp_ack, tcp_send_challenge_ack): challenge
// ACKs and ACKs for bare out-of-window segments at most every 500 ms (net.ipv4.tcp_invalid_ratelimit), and RFC 5961
// §5.2's bound on old ACKs.
public class TcpInvalidAckTests
{
    private static TcpFixture Echo()
    {
        var f = new TcpFixture();
        Assert.Equal(StackError.None, f.Tcp.AddService(new TcpService(TcpServiceKind.Echo, 7)));
        return f;
    }

    [Fact]
    public void ChallengeAcks_AtMostOneEvery500Ms()
    {
        TcpFixture f = Echo();
        f.Connect(7);
        Assert.Single(f.Send(Segment(7, TcpFlags.Rst, 1100, 0)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Rst, 1200, 0)));
        f.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Syn, 1001, 0)));
        f.Advance(TimeSpan.FromMilliseconds(2));
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Syn, 1001, 0)));
        Assert.Equal(TcpFlags.Ack, challenge.Flags);
        Assert.Equal(2, f[StatCounter.TcpChallengeAcks]);
        Assert.Equal(TcpState.Established, Assert.Single(f.Tcp.ConnectionsOf(0)).State);
    }

    [Fact]
    public void BareAcksOutsideTheWindow_RateLimited_DataNever()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1_000_000, iss + 1, window: 512)));
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1_000_000, iss + 1, window: 512)));
        // Segments that carry data are not part of an ACK loop: each is answered.
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1_000_000, iss + 1, new byte[10], window: 512)));
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1_000_000, iss + 1, new byte[10], window: 512)));
        f.Advance(TimeSpan.FromMilliseconds(501));
        Assert.Single(f.Send(Segment(7, TcpFlags.Ack, 1001 + 1_000_000, iss + 1, window: 512)));
    }

    [Fact]
    public void AckOfDataNeverSent_ChallengeAckAndTheDataIsDropped()
    {
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1000, "hello"u8, window: 512)));
        Assert.Equal(1001u, challenge.Ack);
        Assert.Empty(challenge.Payload);
        Assert.Equal(1, f[StatCounter.TcpChallengeAcks]);
    }

    [Fact]
    public void AckBelowSndUnaBeforeAnythingWasAcknowledged_IsTooOld()
    {
        // Linux bounds an old ACK by min(max_window, bytes_acked): on a connection whose peer has acknowledged
        // nothing yet, an ACK of our ISN (one below SND.UNA) is a blind injection, and its data is not taken.
        TcpFixture f = Echo();
        uint iss = f.Connect(7);
        Sent challenge = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss, "hello"u8, window: 512)));
        Assert.Equal(1001u, challenge.Ack);
        Assert.Empty(challenge.Payload);
        Assert.Equal(1, f[StatCounter.TcpChallengeAcks]);

        // Once the peer has acknowledged data, an ACK within that much below SND.UNA is an ordinary old ACK.
        Sent echo = Assert.Single(AfterAck(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1001, iss + 1, "hello"u8, window: 512))));
        Assert.Equal("hello"u8.ToArray(), echo.Payload);
        Assert.Empty(f.Send(Segment(7, TcpFlags.Ack, 1006, iss + 6, window: 512)));
        Sent late = Assert.Single(f.Send(Segment(7, TcpFlags.Ack | TcpFlags.Psh, 1006, iss + 2, "again"u8, window: 512)));
        Assert.Equal("again"u8.ToArray(), late.Payload);
        Assert.Equal(1, f[StatCounter.TcpChallengeAcks]);
    }
}
