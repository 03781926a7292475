namespace XdpStack.Appliance.Routing;

/// <summary>The stack routes the kernel's FIB holds for one prefix (every metric, every next hop on an owned NIC), each with the rtm_protocol that installed it.</summary>
/// <param name="Routes">The routes, lowest metric first; equal prefix and metric make one multipath group.</param>
/// <param name="Protocols">rtm_protocol of <c>Routes[i]</c> at index i.</param>
internal sealed record KernelPrefixRoutes<TRoute>(TRoute[] Routes, byte[] Protocols);
