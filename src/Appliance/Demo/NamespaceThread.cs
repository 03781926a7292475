using System.Runtime.ExceptionServices;
using XdpStack.Lab;

namespace XdpStack.Appliance.Demo;

/// <summary>Runs a piece of work on a fresh thread that has entered a lab namespace.</summary>
/// <remarks>
/// setns(2) moves only the calling thread, so the work gets a thread of its own; threads the
/// work starts (reflector workers) inherit the namespace and outlive this helper.
/// </remarks>
internal static class NamespaceThread
{
    public static T Run<T>(NetNamespace ns, Func<T> work)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using (ns.Enter())
                    result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = "xdpstack in " + ns.Name };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
