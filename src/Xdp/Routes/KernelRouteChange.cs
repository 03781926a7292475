namespace XdpStack.Xdp.Routes;

/// <summary>One parsed route message: what happened to which route.</summary>
public readonly record struct KernelRouteChange(KernelRouteChangeKind Kind, KernelRoute Route);
