using System.Reflection;
using XdpStack.Stack.Link;

namespace XdpStack.Stack.Tests.WorkerPath;

/// <summary>Every lock a stack's objects own, found by walking the object graph from its roots, and a way to hold them all at once.</summary>
/// <remarks>
/// <para>
/// The walk follows every instance field of every object it reaches (arrays, structs, the library's collections
/// and delegates' targets included, so event subscribers such as the fast paths' snapshot followers are found from
/// the stack), and collects each <see cref="Lock"/> it finds in a field, plus the two library locks the stack's
/// objects carry inside: the stripe locks of a <c>ConcurrentDictionary</c> (the neighbour caches') and the monitor a
/// <see cref="SemaphoreSlim"/> takes (a UDP endpoint's wake-up semaphore). Nothing is listed by hand, so a lock added
/// to any object the stack reaches is found and held too.
/// </para>
/// <para>
/// A lock found under a link endpoint (<see cref="ILinkEndpoint"/>: the device, or the test's
/// <see cref="ChannelEndpoint"/> standing in for its TX ring) or under an object of another assembly (the test's
/// manual clock) is not the stack's: it is listed in <see cref="Excluded"/> and not held.
/// </para>
/// </remarks>
internal sealed class StackLocks
{
    private static readonly Assembly s_stack = typeof(NetworkStack).Assembly;

    private readonly Dictionary<object, FoundLock> _held = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, FoundLock> _excluded = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<(Module, int)> _fieldsReached = [];
    private readonly Dictionary<Type, bool> _holdsReferences = [];

    private StackLocks()
    {
    }

    /// <summary>The locks that belong to the stack, one entry per lock object.</summary>
    public IReadOnlyCollection<FoundLock> Held => _held.Values;

    /// <summary>Locks reached but not the stack's (a link endpoint's, a test object's).</summary>
    public IReadOnlyCollection<FoundLock> Excluded => _excluded.Values;

    /// <summary>Whether the walk read <paramref name="field"/> (a field of the stack's assembly) on some object and found it set, so whatever lock lies under it was seen.</summary>
    public bool Reached(FieldInfo field) => _fieldsReached.Contains((field.Module, field.MetadataToken));

    /// <summary>Walks everything reachable from <paramref name="roots"/>.</summary>
    public static StackLocks Find(params object[] roots)
    {
        var locks = new StackLocks();
        var ownership = new Dictionary<object, bool>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<(object Object, bool StackOwned, string Path)>();
        foreach (object root in roots)
            pending.Push((root, true, root.GetType().Name));
        while (pending.TryPop(out var item))
        {
            (object o, bool owned, string path) = item;
            Type type = o.GetType();
            if (o is ILinkEndpoint || (type.Assembly != s_stack && !IsLibrary(type.Assembly)))
                owned = false;
            // An object reached first through a test object and later through the stack's own is the stack's.
            if (ownership.TryGetValue(o, out bool seenOwned) && (seenOwned || !owned))
                continue;
            ownership[o] = owned;
            if (Skip(type))
                continue;
            if (type.IsArray)
            {
                if (!locks.HoldsReferences(type.GetElementType()!))
                    continue;
                int index = 0;
                foreach (object? element in (Array)o)
                {
                    if (element is not null)
                        locks.Visit(element, owned, $"{path}[{index}]", pending);
                    index++;
                }
                continue;
            }
            locks.VisitFields(o, o, type, owned, path, pending);
        }
        return locks;
    }

    /// <summary>Enters every held lock on a new thread and keeps them until the returned object is disposed.</summary>
    public IDisposable HoldAll() => new Holder([.. Held]);

    private void VisitFields(object owner, object value, Type type, bool owned, string path, Stack<(object, bool, string)> pending)
    {
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            foreach (FieldInfo field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                Type fieldType = field.FieldType;
                if (fieldType.IsPointer || fieldType.IsFunctionPointer || fieldType.IsByRefLike || !HoldsReferences(fieldType))
                    continue;
                object? fieldValue = field.GetValue(value);
                if (fieldValue is null)
                    continue;
                if (field.Module.Assembly == s_stack)
                    _fieldsReached.Add((field.Module, field.MetadataToken));
                string fieldPath = $"{path}.{field.Name}";
                string fieldName = $"{IlCallGraph.TypeName(t)}.{field.Name}";
                if (fieldValue is Lock)
                {
                    Record(fieldValue, fieldName, owned, fieldPath);
                    continue;
                }
                if (MonitorLocks(t, field, fieldValue) is { } monitors)
                {
                    for (int i = 0; i < monitors.Length; i++)
                        Record(monitors[i], fieldName, owned, $"{fieldPath}[{i}]");
                    continue;
                }
                if (fieldType.IsValueType)
                {
                    // A struct lies inside its owner: walk its fields in place (a boxed copy reads the same references).
                    VisitFields(owner, fieldValue, fieldValue.GetType(), owned, fieldPath, pending);
                    continue;
                }
                Visit(fieldValue, owned, fieldPath, pending);
            }
        }
    }

    private void Visit(object value, bool owned, string path, Stack<(object, bool, string)> pending)
    {
        if (value is Lock)
            return;
        if (value.GetType().IsValueType)
        {
            // A struct element of an array (boxed by the enumeration).
            VisitFields(value, value, value.GetType(), owned, path, pending);
            return;
        }
        pending.Push((value, owned, path));
    }

    // The monitor objects of the library types the stack keeps: ConcurrentDictionary's stripe locks and
    // SemaphoreSlim's own lock. Missing fields (another runtime version) fail loudly rather than hold nothing.
    private static object[]? MonitorLocks(Type declaring, FieldInfo field, object value)
    {
        Type definition = declaring.IsGenericType ? declaring.GetGenericTypeDefinition() : declaring;
        if (definition.FullName == "System.Collections.Concurrent.ConcurrentDictionary`2+Tables" && field.Name == "_locks")
            return (object[])value;
        if (declaring == typeof(SemaphoreSlim) && field.Name == "m_lockObjAndDisposed")
            return [value];
        return null;
    }

    private void Record(object lockObject, string field, bool owned, string path)
    {
        var found = new FoundLock(lockObject, field, path);
        if (owned)
        {
            _excluded.Remove(lockObject);
            _held.TryAdd(lockObject, found);
        }
        else if (!_held.ContainsKey(lockObject))
        {
            _excluded.TryAdd(lockObject, found);
        }
    }

    private static bool IsLibrary(Assembly assembly) =>
        assembly == typeof(object).Assembly || assembly.GetName().Name!.StartsWith("System.", StringComparison.Ordinal);

    // Objects with nothing of the stack's below them, or whose fields are the runtime's own.
    private static bool Skip(Type type) =>
        type == typeof(string) || type == typeof(Lock) || typeof(MemberInfo).IsAssignableFrom(type) || typeof(Assembly).IsAssignableFrom(type)
        || typeof(Module).IsAssignableFrom(type) || type == typeof(Thread) || type == typeof(ExecutionContext)
        || typeof(System.Globalization.CultureInfo).IsAssignableFrom(type);

    private bool HoldsReferences(Type type)
    {
        if (!type.IsValueType)
            return true;
        if (type.IsPrimitive || type.IsEnum || type.IsPointer)
            return false;
        if (_holdsReferences.TryGetValue(type, out bool known))
            return known;
        _holdsReferences[type] = false;
        bool holds = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Any(f => !f.FieldType.IsPointer && !f.FieldType.IsFunctionPointer && HoldsReferences(f.FieldType));
        _holdsReferences[type] = holds;
        return holds;
    }

    /// <summary>A lock object (a <see cref="Lock"/>, or an object the library uses with <see cref="Monitor"/>), the field holding it, and the path of fields it was found by.</summary>
    public sealed record FoundLock(object Lock, string Field, string Path)
    {
        public bool IsMonitor => Lock is not System.Threading.Lock;
    }

    private sealed class Holder : IDisposable
    {
        private readonly ManualResetEventSlim _held = new();
        private readonly ManualResetEventSlim _release = new();
        private readonly Thread _thread;
        private Exception? _failure;

        public Holder(FoundLock[] locks)
        {
            _thread = new Thread(() =>
            {
                int entered = 0;
                try
                {
                    for (; entered < locks.Length; entered++)
                    {
                        if (locks[entered].Lock is Lock l)
                            l.Enter();
                        else
                            Monitor.Enter(locks[entered].Lock);
                    }
                    _held.Set();
                    _release.Wait();
                }
                catch (Exception e)
                {
                    _failure = e;
                    _held.Set();
                }
                finally
                {
                    for (int i = entered - 1; i >= 0; i--)
                    {
                        if (locks[i].Lock is Lock l)
                            l.Exit();
                        else
                            Monitor.Exit(locks[i].Lock);
                    }
                }
            }) { IsBackground = true, Name = "lock holder" };
            _thread.Start();
            _held.Wait();
            if (_failure is not null)
                throw new InvalidOperationException("could not enter every lock", _failure);
        }

        public void Dispose()
        {
            _release.Set();
            _thread.Join();
            _held.Dispose();
            _release.Dispose();
        }
    }
}
