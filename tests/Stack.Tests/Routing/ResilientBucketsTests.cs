using XdpStack.Stack.Routing;

namespace XdpStack.Stack.Tests.Routing;

// The bucket deal alone, with no hash in the way: shares, and how many buckets move when members leave and join.
public class ResilientBucketsTests
{
    private static int[] Held(byte[] owners, int members) =>
        [.. Enumerable.Range(0, members).Select(m => owners.Count(o => o == m))];

    [Fact]
    public void Deal_FreshGroupOfFour_64EachRoundRobin()
    {
        byte[] owners = ResilientBuckets.Deal([], [1, 1, 1, 1]);
        Assert.Equal([64, 64, 64, 64], Held(owners, 4));
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], owners[..8]);
    }

    [Theory]
    [InlineData(new[] { 3, 1 }, new[] { 192, 64 })]
    [InlineData(new[] { 1, 1, 1 }, new[] { 86, 85, 85 })]
    [InlineData(new[] { 256, 1 }, new[] { 255, 1 })]
    public void Deal_Weights_LargestRemainderShares(int[] weights, int[] expected)
    {
        Assert.Equal(expected, Held(ResilientBuckets.Deal([], weights), weights.Length));
    }

    [Fact]
    public void Deal_OneOfFourLeaves_OnlyItsBucketsMoveEvenlyToTheRest()
    {
        byte[] four = ResilientBuckets.Deal([], [1, 1, 1, 1]);
        // Member 2 left; members 0, 1, 3 are now 0, 1, 2.
        int[] previous = [.. four.Select(o => o switch { 2 => -1, 3 => 2, _ => (int)o })];
        byte[] three = ResilientBuckets.Deal(previous, [1, 1, 1]);
        for (int b = 0; b < 256; b++)
        {
            if (previous[b] >= 0)
                Assert.Equal(previous[b], three[b]);
        }
        Assert.Equal([86, 85, 85], Held(three, 3));
    }

    [Fact]
    public void Deal_FifthJoins_ExactlyItsShareMovesAndOnlyToIt()
    {
        byte[] four = ResilientBuckets.Deal([], [1, 1, 1, 1]);
        byte[] five = ResilientBuckets.Deal([.. four.Select(o => (int)o)], [1, 1, 1, 1, 1]);
        int moved = 0;
        for (int b = 0; b < 256; b++)
        {
            if (five[b] != four[b])
            {
                Assert.Equal(4, five[b]);
                moved++;
            }
        }
        Assert.Equal(Held(five, 5)[4], moved);
        Assert.InRange(moved, 51, 52);
    }

    [Fact]
    public void Deal_SamePreviousAndMembers_SameDeal()
    {
        byte[] four = ResilientBuckets.Deal([], [2, 1, 1, 1]);
        int[] previous = [.. four.Select(o => (int)o)];
        Assert.Equal(four, ResilientBuckets.Deal(previous, [2, 1, 1, 1]));
    }
}
