using XdpStack.Appliance.Cli;

namespace XdpStack.Appliance.Tests.Cli;

public sealed class IndexListTests
{
    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("3,1", new[] { 3, 1 })]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData(" 1 , 4-5 ", new[] { 1, 4, 5 })]
    public void TryParse_ValidList_ReturnsIndexesInOrder(string text, int[] expected)
    {
        Assert.True(IndexList.TryParse(text, out int[] indexes, out string error), error);
        Assert.Equal(expected, indexes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("-1")]
    [InlineData("3-1")]
    [InlineData("1,1")]
    [InlineData("0-2,2")]
    [InlineData("99999")]
    [InlineData("1-")]
    public void TryParse_InvalidList_ReturnsFalseWithReason(string text)
    {
        Assert.False(IndexList.TryParse(text, out _, out string error));
        Assert.NotEmpty(error);
        Assert.DoesNotContain('\n', error);
    }
}
