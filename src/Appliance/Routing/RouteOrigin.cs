namespace XdpStack.Appliance.Routing;

/// <summary>Where a route in the stack's table came from; <c>show routes</c> prints it.</summary>
internal enum RouteOrigin
{
    /// <summary>The prefix of an interface address, added as Linux adds it.</summary>
    Connected,

    /// <summary>A <c>[[route]]</c> of the config file.</summary>
    Config,

    /// <summary>Mirrored from the kernel's FIB by the <c>[kernel_routes]</c> sync.</summary>
    Kernel,
}
