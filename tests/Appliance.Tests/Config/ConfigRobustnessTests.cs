using CsCheck;
using XdpStack.Appliance.Config;

namespace XdpStack.Appliance.Tests.Config;

/// <summary>Whatever the text, loading ends in a config or in well-formed errors, never in an exception.</summary>
public sealed class ConfigRobustnessTests
{
    private static readonly string[] s_tokens =
    [
        "\n", " ", "=", "[", "]", "[[", "]]", "{", "}", ",", ".", "\"", "'", "#", "/", ":", "-",
        "0", "1", "64", "-1", "4096", "true", "1.5", "1979-05-27", "\"all\"", "\"eth1\"", "\"198.18.0.1/24\"",
        "\"fe80::1\"", "interface", "route", "name", "via", "prefix", "queues", "cores", "forwarding", "ipv4",
    ];

    private static readonly Gen<string> s_genToken = Gen.Int[0, s_tokens.Length - 1].Select(i => s_tokens[i]);

    [Fact]
    public void TryParse_MutatedFullFile_ReturnsErrorsWithPositionsInsideTheFile()
    {
        string original = ConfigLoaderTests.FullFile;
        Gen<(int Position, int Delete, string Insert)> genEdit = Gen.Select(Gen.Int[0, original.Length], Gen.Int[0, 8], s_genToken);
        genEdit.Array[1, 6].Sample(edits =>
        {
            string text = original;
            foreach ((int position, int delete, string insert) in edits)
            {
                int at = Math.Min(position, text.Length);
                text = text.Remove(at, Math.Min(delete, text.Length - at)).Insert(at, insert);
            }
            AssertWellFormed(text);
        }, iter: 2000);
    }

    [Fact]
    public void TryParse_RandomTokens_ReturnsErrorsWithPositionsInsideTheFile()
    {
        s_genToken.Array[0, 60].Sample(tokens => AssertWellFormed(string.Concat(tokens)), iter: 2000);
    }

    // Fuzz crash config-1: Tomlyn's lexer threw ArgumentOutOfRangeException out of TryParse when a backslash inside a
    // string was the file's last character; the second text is the fuzzer's input, the others its smallest forms.
    [Theory]
    [InlineData("x = \"\\")]
    [InlineData("# xdpstack as# xues = [0, 1]\naddresses = [\"198.18.1.1/24\", \"2001:\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\ a load-test target on one l\\\\\\\\\\\\in\\")]
    [InlineData("[[interface]]\nname = \"eth1\\")]
    [InlineData("a = '''x''' \nb = \"\"\"\\")]
    public void TryParse_BackslashEndsTheFile_SyntaxErrorAtTheEnd(string text)
    {
        AssertWellFormed(text);
        Assert.False(ConfigLoader.TryParse(text, "t.toml", "/t.toml", FakeHostFacts.TwoPorts(), out _, out IReadOnlyList<ConfigError> errors));
        Assert.Contains(errors, e => e.Position!.Value.Line == text.Split('\n').Length);
    }

    [Fact]
    public void TryParse_NestingDeeperThanTomlynAllows_ErrorNotException()
    {
        // The config fuzz target's input (2026-12-07): Tomlyn threw TomlException ("maximum depth of 64") out of TryParse.
        string fuzzed = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(
            "IyB4ZHBzdGFjayBhcyBhIGxvYWQtdGVzdCB0YXJnZXQgb24jIHhkcHN0YWNrIGFzIGEgbG9hZC10ZXN0IHRhcmdldCBvbiBvbmUgbGluazqgaXQgYW5zd2VycywgaXQgZG9lcyBub3QgZm9yd2FyZC4KIyBDaIJjayBpdCB3aXRoOiAgeGRwc3RhY2sgcnVuIC0tY2hlY2sgLWMgZGVwbG95L2V4YW1wbGVzL3Jlc3BvbmRlci50b21sCiMgRXZlcnkga2V5IGNzaXIgc2VkaWJlZCBpbiBkb2NzL2ORmmZpZy5tZC4KClt3b3JrZXJzXQpiYXRjaCA9IDY0CgpbZm9yd2FyZGluZ10gICAgICAgICBdBwAAAAAAACAgICMgbm90aGluZyB0byBmb3J3YXJkIHRvOiBkcm9wIHRyYW5zIyBub3RoaW5nIHRvIGZvcndhcmQgdG86IGRyb3AgdHJhbnNpdCB0cmFmZmljCmlwdjQgPSBmYWxzZQppcHY2ID0gZmFsc2UKCltbaW50ZXJmYWNlXV0KbmFtZSA9ICJldGgxIgphZGRyZXNzZXMgPSBbIjE5OC4xOC4wLjEvMjQiLCAiMjAwMToyOjA6MTo6MS82NCI6MS82NCJdCgpbW3NlcnZpY2VdXQpraW5kID0gInVkcC1lY2hvIiAgICAgICAjIFJGQyA4NjI6IGV2ZWVdXQpraW5kID0gInVkcC1kaXNjYSBvbmUgbGluazogaXQgYW5zd2VycywgaXQgYWRkcmVzc2VzcC1lY2iurq6urq6urq6urq6yrq6urq6urq6urq6urq6urq6urmFjZV1dKm5hbWUgPSAiZXRoMSIKYWRkcmVzc2VzID1bW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbW1tbWxpbIjE5OC4xOC4wLjEvMjQiLCAiMjAwMToyOjA6MTo6MS82NCJdCgpzIG9kcmVzcyBvbmx5bgpseQo="));
        foreach (string text in new[] { fuzzed, "x = " + new string('[', 65) + "1" + new string(']', 65) + "\n", "x = " + string.Concat(Enumerable.Repeat("{ a = ", 70)) + "1" + new string('}', 70) })
        {
            AssertWellFormed(text);
            Assert.False(ConfigLoader.TryParse(text, "t.toml", "/t.toml", FakeHostFacts.TwoPorts(), out _, out IReadOnlyList<ConfigError> errors));
            Assert.NotEmpty(errors);
        }
        // 64 levels are still read as TOML (and then refused by the schema, not the parser).
        Assert.False(ConfigLoader.TryParse("x = " + new string('[', 60) + "1" + new string(']', 60) + "\n", "t.toml", "/t.toml", FakeHostFacts.TwoPorts(), out _, out IReadOnlyList<ConfigError> shallow));
        Assert.DoesNotContain(shallow, e => e.Message.Contains("64 levels", StringComparison.Ordinal));
    }

    private static void AssertWellFormed(string text)
    {
        bool valid = ConfigLoader.TryParse(text, "t.toml", "/t.toml", FakeHostFacts.TwoPorts(), out ApplianceConfig? config, out IReadOnlyList<ConfigError> errors);
        Assert.Equal(valid, config is not null);
        Assert.Equal(valid, errors.Count == 0);
        int lines = text.Split('\n').Length;
        foreach (ConfigError error in errors)
        {
            Assert.NotNull(error.Position);
            Assert.InRange(error.Position.Value.Line, 1, lines);
            Assert.True(error.Position.Value.Column >= 1, error.ToString());
            Assert.False(string.IsNullOrWhiteSpace(error.Message), error.ToString());
            Assert.DoesNotContain('\n', error.Message);
        }
    }
}
