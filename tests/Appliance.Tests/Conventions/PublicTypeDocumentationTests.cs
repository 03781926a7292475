using System.Reflection;
using System.Xml.Linq;

namespace XdpStack.Appliance.Tests.Conventions;

/// <summary>
/// Every public type of the two libraries carries a summary: the libraries are meant to be
/// used (and published) on their own, so their surface must explain itself.
/// </summary>
public sealed class PublicTypeDocumentationTests
{
    public static TheoryData<string> Libraries => new() { "XdpStack.Xdp", "XdpStack.Stack" };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void EveryPublicType_HasASummary(string assemblyName)
    {
        Assembly assembly = Assembly.Load(assemblyName);
        string xmlPath = Path.ChangeExtension(assembly.Location, ".xml");
        Assert.True(File.Exists(xmlPath), $"documentation file missing: {xmlPath}");

        var documented = XDocument.Load(xmlPath).Descendants("member")
            .Where(m => !string.IsNullOrWhiteSpace((string?)m.Element("summary")))
            .Select(m => (string)m.Attribute("name")!)
            .ToHashSet(StringComparer.Ordinal);

        Assert.NotEmpty(assembly.GetExportedTypes());
        string[] missing = assembly.GetExportedTypes()
            .Select(t => "T:" + t.FullName!.Replace('+', '.'))
            .Where(id => !documented.Contains(id))
            .Order(StringComparer.Ordinal)
            .ToArray();

        Assert.True(missing.Length == 0, "public types without a <summary>:\n" + string.Join('\n', missing));
    }
}
