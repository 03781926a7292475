using XdpStack.Appliance.Links;
using XdpStack.Stack;
using XdpStack.Xdp;

namespace XdpStack.Appliance.Run;

/// <summary>Follows the owned interfaces' link state and takes a NIC out of the stack while its link cannot carry frames.</summary>
/// <remarks>
/// <para>
/// Linux stops using a link that is down: its routes are not taken and what would leave through it is not sent. The
/// appliance does the same by disabling the NIC (<see cref="NetworkStack.DisableNic"/>): the stack and the fast paths
/// skip routes through it (a destination with no other route gets "net unreachable"), and its neighbour entries go,
/// as Linux flushes them. When the link is up and running again the NIC is enabled and announces itself (gratuitous
/// ARP), without a restart: the sockets stay bound through a down/up, and the workers keep serving them.
/// </para>
/// <para>
/// A deleted interface stays disabled; the kernel unbinds its sockets, so its queues are no longer served, and the
/// rest of the appliance goes on. Every change is one line on stdout (<c>eth1: link down</c>), and
/// <c>xdpstack_interface_up</c> follows it. The monitor runs on its own thread, never on a worker.
/// </para>
/// </remarks>
internal sealed class LinkMonitor : IDisposable
{
    private readonly NetworkStack _stack;
    private readonly Dictionary<int, (string Name, NicId[] Nics)> _owned;
    private readonly Dictionary<int, LinkState> _last = [];
    private readonly Action<string> _say;
    private readonly LinkNotifications _notifications;
    private readonly Thread _thread;
    private volatile bool _stop;

    private LinkMonitor(NetworkStack stack, Dictionary<int, (string, NicId[])> owned, Action<string> say)
    {
        _stack = stack;
        _owned = owned;
        _say = say;
        // Created on the caller's thread, so the socket belongs to the interfaces' network namespace.
        _notifications = new LinkNotifications();
        _thread = new Thread(Run) { IsBackground = true, Name = "xdpstack link monitor" };
    }

    /// <summary>Starts following <paramref name="plane"/>'s devices (NIC n is the n-th device); call from a thread in their namespace.</summary>
    public static LinkMonitor Start(DataPlane plane, Action<string> say)
    {
        var owned = new Dictionary<int, (string, NicId[])>();
        for (int i = 0; i < plane.Devices.Count; i++)
        {
            // A VLAN sub-interface has no link state of its own: it is up and down with its parent, as on Linux.
            XdpNicLink parent = plane.Links[i];
            owned[plane.Devices[i].IfIndex] = (plane.Devices[i].Name, [parent.NicId, .. plane.Links.Where(l => l.Parent == parent).Select(l => l.NicId)]);
        }
        var monitor = new LinkMonitor(plane.Stack, owned, say);
        monitor._notifications.RequestDump();
        monitor._thread.Start();
        return monitor;
    }

    private void Run()
    {
        var states = new List<LinkState>();
        while (!_stop)
        {
            states.Clear();
            try
            {
                _notifications.Read(200, states);
            }
            catch (XdpException e)
            {
                _say($"xdpstack: link monitor: {e.Message}; link changes are no longer followed");
                return;
            }
            foreach (LinkState state in states)
                Apply(state);
        }
    }

    private void Apply(LinkState state)
    {
        if (!_owned.TryGetValue(state.IfIndex, out (string Name, NicId[] Nics) owned))
            return;
        bool known = _last.TryGetValue(state.IfIndex, out LinkState previous);
        _last[state.IfIndex] = state;
        if (known && previous.Deleted)
            return;
        if (state.Deleted)
        {
            foreach (NicId nic in owned.Nics)
                _stack.DisableNic(nic);
            _say($"xdpstack: {owned.Name}: deleted; its NIC is disabled and its queues are no longer served (restart to use a new interface of that name)");
            return;
        }
        // The first report (the dump) only speaks up when the link is not usable.
        if (known && previous.CanForward == state.CanForward)
            return;
        if (state.CanForward)
        {
            foreach (NicId nic in owned.Nics)
                _stack.EnableNic(nic);
            if (known)
                _say($"xdpstack: {owned.Name}: link up; forwarding through it again");
        }
        else
        {
            foreach (NicId nic in owned.Nics)
                _stack.DisableNic(nic);
            string why = !state.AdminUp ? "set down" : "no carrier";
            _say($"xdpstack: {owned.Name}: link down ({why}); routes through it are not used until it is up");
        }
    }

    public void Dispose()
    {
        _stop = true;
        if (_thread.IsAlive)
            _thread.Join();
        _notifications.Dispose();
    }
}
