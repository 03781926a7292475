using System.Text.Json.Serialization;

namespace XdpStack.Appliance.Control;

/// <summary>The control socket's JSON, generated at build time (no reflection), snake_case as <c>ip -j</c> and Prometheus spell names.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ControlError))]
[JsonSerializable(typeof(InterfacesReply))]
[JsonSerializable(typeof(RoutesReply))]
[JsonSerializable(typeof(RouteSummaryReply))]
[JsonSerializable(typeof(NeighborsReply))]
[JsonSerializable(typeof(CountersReply))]
[JsonSerializable(typeof(StatsSample))]
[JsonSerializable(typeof(CaptureRequest))]
[JsonSerializable(typeof(CaptureStarted))]
[JsonSerializable(typeof(CaptureSummary))]
internal sealed partial class ControlJson : JsonSerializerContext;
