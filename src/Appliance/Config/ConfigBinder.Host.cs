using System.Globalization;

namespace XdpStack.Appliance.Config;

internal sealed partial class ConfigBinder
{
    /// <summary>Checks the interfaces' devices, queues, MACs and MTUs; returns each found device's queue count.</summary>
    private Dictionary<string, int> CheckDevices(IHostFacts host)
    {
        var queueCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var mtus = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (InterfaceDraft draft in _interfaces)
        {
            if (draft.Name is not { } name || draft.IsVlan)
                continue;
            if (!host.TryGetDevice(name.Value, out DeviceFacts device))
            {
                _errors.Add(name.Position, $"no network interface named '{name.Value}' in this network namespace (see 'ip link')");
                continue;
            }
            queueCounts[name.Value] = device.QueueCount;
            mtus[name.Value] = device.Mtu;
            foreach (Located<int> queue in draft.QueueItems)
            {
                if (queue.Value >= device.QueueCount)
                    _errors.Add(queue.Position, $"'{name.Value}' has {Plural(device.QueueCount, "queue")} (0-{device.QueueCount - 1}); queue {queue.Value} does not exist");
            }
            if (draft.Mac is { } mac && device.Mac != mac.Value)
                _errors.Add(mac.Position, $"'{name.Value}' has MAC {(device.Mac is { } m ? m.ToString() : "none")}, not {mac.Value} as configured");
            if (draft.Mtu is { } mtu && device.Mtu != mtu.Value)
                _errors.Add(mtu.Position, string.Create(CultureInfo.InvariantCulture, $"'{name.Value}' has MTU {device.Mtu}, not {mtu.Value} as configured"));
        }
        foreach (InterfaceDraft draft in _interfaces)
            CheckVlanMtu(draft, mtus);
        return queueCounts;
    }

    private void CheckCpus(IHostFacts host)
    {
        if (host.OnlineCpus is not { } online)
            return;
        foreach (Located<int> core in _workers.Cores)
        {
            if (!online.Contains(core.Value))
                _errors.Add(core.Position, $"CPU {core.Value} in 'cores' in [workers] is not online (online CPUs: {Ranges(online)})");
        }
    }

    /// <summary>
    /// Checks that 'cores' names a CPU for every worker: worker q serves queue q, so the highest queue
    /// index in use sets the count. Without the machine only listed queues count; with it, "all" counts
    /// every queue of the device.
    /// </summary>
    private void CheckWorkerCount(IReadOnlyDictionary<string, int>? deviceQueueCounts)
    {
        if (_workers.Cores.Count == 0 || _workers.CoresPosition is not { } coresPosition)
            return;
        string? reason = null;
        int needed = 0;
        foreach (InterfaceDraft draft in _interfaces)
        {
            if (draft.Name is not { } name || draft.QueuesInvalid || draft.IsVlan)
                continue;
            if (draft.Queues.IsAll)
            {
                if (deviceQueueCounts is not null && deviceQueueCounts.TryGetValue(name.Value, out int count) && count > needed)
                {
                    needed = count;
                    reason = $"'{name.Value}' has {Plural(count, "queue")} and queues = \"all\", which need workers 0-{count - 1}";
                }
            }
            else if (draft.Queues.Indexes.Max() + 1 is int highest && highest > needed)
            {
                needed = highest;
                reason = $"queue {highest - 1} of '{name.Value}' (at {draft.QueuesPosition}) needs worker {highest - 1}, pinned to cores[{highest - 1}]";
            }
        }
        if (needed > _workers.Cores.Count)
            _errors.Add(coresPosition, $"'cores' in [workers] lists {Plural(_workers.Cores.Count, "CPU")}, but {reason}");
    }

    private static string Plural(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>"0-3,6": the CPU list the way /sys and taskset print it.</summary>
    private static string Ranges(IReadOnlySet<int> values)
    {
        int[] sorted = [.. values.Order()];
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1)
                j++;
            parts.Add(i == j ? $"{sorted[i]}" : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }
        return string.Join(',', parts);
    }
}
