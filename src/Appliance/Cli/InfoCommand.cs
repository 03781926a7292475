using System.CommandLine;
using XdpStack.Appliance.Workers;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Cli;

/// <summary><c>xdpstack info</c>: what the appliance sees on an interface, and which socket mode it would get.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface", "-i") { Description = "Network interface to describe", Required = true };
        var command = new Command("info", "Show an interface's index, MAC, MTU, queues, attached XDP program, and the AF_XDP mode a socket would get on it.")
        {
            iface,
        };
        command.SetAction(parse => Run(parse.GetRequiredValue(iface), Console.Out));
        return command;
    }

    public static int Run(string name, TextWriter o)
    {
        NetDevice device = DeviceLookup.Open(name);
        o.WriteLine($"interface    {device.Name}");
        o.WriteLine($"ifindex      {device.IfIndex}");
        o.WriteLine($"mac          {device.MacString}");
        o.WriteLine($"mtu          {device.Mtu}");
        o.WriteLine($"queues       {device.QueueCount} usable (rx {device.RxQueueCount}, tx {device.TxQueueCount}, combined {device.CombinedQueueCount})");
        o.WriteLine($"xdp program  {DescribeProgram(device)}");
        o.WriteLine($"af_xdp       {Probe(device)}");
        return 0;
    }

    private static string DescribeProgram(NetDevice device)
    {
        (uint id, XdpAttachMode? mode) = device.QueryXdp();
        return id == 0 ? "none" : $"id {id} ({mode?.ToString().ToLowerInvariant() ?? "unknown mode"})";
    }

    /// <summary>Binds queue 0 briefly in auto mode behind a temporary program, and reports what the kernel chose.</summary>
    private static string Probe(NetDevice device)
    {
        if (device.XdpProgramId != 0)
            return "probe skipped: the interface already has an XDP program";
        string? missing = Capabilities.Missing(Capabilities.Effective(), Capabilities.MemlockLimit(), 64 * 4096);
        if (missing is not null)
            return "probe skipped: " + missing;
        try
        {
            using var umem = new Umem(new UmemOptions { FrameSize = 4096, FrameCount = 64 });
            using XskSocket socket = XskSocket.Create(device, 0, umem, new XskSocketOptions { Mode = XskBindMode.Auto, NeedWakeup = true });
            using XskRedirectProgram program = XskRedirectProgram.Attach(device, XdpAttachMode.Auto);
            program.Register(0, socket);
            return $"queue 0 binds in {(socket.ZeroCopy ? "zero-copy" : "copy")} mode with {program.AttachedMode.ToString().ToLowerInvariant()} XDP (probed, then detached)";
        }
        catch (XdpException e)
        {
            return "probe on queue 0 failed: " + e.Message;
        }
    }
}
