using XdpStack.Stack.Link;
using XdpStack.Stack.Tests.Fakes;

namespace XdpStack.Stack.Tests.Link;

public class ChannelEndpointTests
{
    private sealed class Recorder : INetworkDispatcher
    {
        public readonly List<(int Worker, byte[] Frame)> Seen = [];

        public bool ReplyInPlace;

        public void DeliverNetworkPackets(scoped FrameBatch batch)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Seen.Add((batch.Worker, batch[i].ToArray()));
                if (ReplyInPlace)
                {
                    batch[i][0] ^= 0xFF;
                    batch.Frames[i].Length = 20;
                    batch.Frames[i].Action = FrameAction.Transmit;
                }
            }
        }
    }

    [Fact]
    public void InjectInboundBatch_DeliversOneBatchOnTheGivenWorker()
    {
        var link = new ChannelEndpoint(Packets.StackMac, workers: 2);
        var recorder = new Recorder();
        link.Attach(recorder);
        link.InjectInboundBatch([new byte[60], Enumerable.Range(0, 64).Select(i => (byte)i).ToArray()], worker: 1);
        Assert.Equal(2, recorder.Seen.Count);
        Assert.All(recorder.Seen, s => Assert.Equal(1, s.Worker));
        Assert.Equal(63, recorder.Seen[1].Frame[63]);
    }

    [Fact]
    public void TransmitAction_FrameSentInPlaceAtNewLength()
    {
        var link = new ChannelEndpoint(Packets.StackMac);
        link.Attach(new Recorder { ReplyInPlace = true });
        byte[] frame = Enumerable.Range(1, 60).Select(i => (byte)i).ToArray();
        link.InjectInbound(frame);
        byte[] sent = Assert.Single(link.ReadAll());
        Assert.Equal(20, sent.Length);
        Assert.Equal(1 ^ 0xFF, sent[0]);
        Assert.Equal(frame[1..20], sent[1..]);
    }

    [Fact]
    public void Detached_InjectDropsSilently()
    {
        var link = new ChannelEndpoint(Packets.StackMac);
        var recorder = new Recorder();
        link.Attach(recorder);
        link.Attach(null);
        Assert.False(link.IsAttached);
        link.InjectInbound(new byte[60]);
        Assert.Empty(recorder.Seen);
    }

    [Fact]
    public void WriteFrame_RingFull_CountsDropped()
    {
        var link = new ChannelEndpoint(Packets.StackMac, outboundCapacity: 2);
        Assert.True(link.WriteFrame(0, new byte[60]));
        Assert.True(link.WriteFrame(0, new byte[60]));
        Assert.False(link.WriteFrame(0, new byte[60]));
        Assert.Equal(1, link.Dropped);
        Assert.Equal(2, link.OutboundCount);
        Assert.False(link.WriteFrame(0, new byte[5000]));
    }
}
