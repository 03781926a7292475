using System.Reflection;
using System.Reflection.Emit;

namespace XdpStack.Stack.Tests.WorkerPath;

/// <summary>
/// Walks the static call graph from entry methods through the IL of one or more assemblies and reports every call, anywhere
/// below them, to a synchronisation primitive (<c>Interlocked</c>, <c>Monitor</c>, <c>Lock.Enter</c>/<c>EnterScope</c>,
/// semaphores and the like) or to a library member known to take a lock or use <c>Interlocked</c> inside.
/// </summary>
/// <remarks>
/// <para>
/// Sound over-approximation within the followed assembly: <c>call</c> and <c>newobj</c> follow their target; a
/// <c>callvirt</c> on an interface or virtual method, or a <c>constrained.</c> call of a static abstract one, follows
/// every implementation and override in the assembly (a <c>constrained.</c> prefix naming a concrete type follows
/// that type's only); a delegate's <c>Invoke</c> follows every method of the assembly that is ever turned into a
/// delegate of a type it may be (ldftn then newobj). Generic code is walked as instantiated, so a method reached
/// with known type arguments resolves its calls on them (a <c>TFilter</c> struct, a lookup strategy). Methods of
/// other assemblies are not followed: their names are checked against <see cref="Forbidden"/>, and the stack's
/// methods the library calls back (Equals, GetHashCode, CompareTo of the types it is instantiated with) become
/// extra roots. Methods named in <c>stops</c> are reported when reached and not followed.
/// </para>
/// <para>
/// Not covered: what a library method does beyond the forbidden list (those bodies are not read), code reached only
/// through delegates made outside the assembly (a <c>UdpDefaultHandler</c> is the application's), reflection,
/// function pointers (a <c>calli</c> is reported), and static constructors.
/// </para>
/// </remarks>
internal sealed class IlCallGraph
{
    private static readonly OpCode[] s_oneByte = new OpCode[256];
    private static readonly OpCode[] s_twoByte = new OpCode[256];

    private readonly HashSet<Assembly> _assemblies;
    private readonly IReadOnlyDictionary<string, string> _stops;
    private readonly Type[] _types;
    private readonly List<(Type Delegate, MethodBase Target)> _delegateTargets = [];
    private readonly Dictionary<MethodKey, MethodBase> _visited = [];
    private readonly Dictionary<MethodKey, MethodKey?> _parent = [];
    private readonly Queue<MethodBase> _queue = new();
    private readonly List<Violation> _violations = [];
    private readonly Dictionary<string, string> _stopsReached = [];
    private readonly SortedSet<string> _external = new(StringComparer.Ordinal);
    private readonly HashSet<Type> _callbackTypes = [];

    static IlCallGraph()
    {
        foreach (FieldInfo field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            ushort value = (ushort)op.Value;
            if (op.Size == 1)
                s_oneByte[value] = op;
            else
                s_twoByte[value & 0xFF] = op;
        }
    }

    /// <summary>Prepares a walk of <paramref name="assembly"/>; <paramref name="stops"/> maps display names (<see cref="Name"/>) of methods not to follow to the reason why.</summary>
    public IlCallGraph(Assembly assembly, IReadOnlyDictionary<string, string> stops)
        : this([assembly], stops)
    {
    }

    /// <summary>Prepares a walk that follows calls into any of <paramref name="assemblies"/> (an application and the libraries of its own that it calls).</summary>
    public IlCallGraph(IEnumerable<Assembly> assemblies, IReadOnlyDictionary<string, string> stops)
    {
        _assemblies = [.. assemblies];
        _stops = stops;
        _types = [.. _assemblies.SelectMany(a => a.GetTypes())];
        FindDelegateTargets();
    }

    private bool Follows(Assembly assembly) => _assemblies.Contains(assembly);

    /// <summary>Methods whose bodies were read.</summary>
    public IReadOnlyCollection<MethodBase> Visited => _visited.Values;

    /// <summary>Forbidden calls found, each with the chain of calls that reaches it from an entry point.</summary>
    public IReadOnlyList<Violation> Violations => _violations;

    /// <summary>Stop methods reached, with one chain that reaches each.</summary>
    public IReadOnlyDictionary<string, string> StopsReached => _stopsReached;

    /// <summary>Every method outside the assembly that a visited method calls, by display name.</summary>
    public IReadOnlyCollection<string> ExternalCalls => _external;

    /// <summary>Walks everything reachable from <paramref name="entries"/> (and the callbacks the library makes into it) and returns this walker.</summary>
    public IlCallGraph Walk(params MethodBase[] entries)
    {
        foreach (MethodBase entry in entries)
            Enqueue(entry, from: null);
        while (true)
        {
            while (_queue.TryDequeue(out MethodBase? method))
                Scan(method);
            // Equals, GetHashCode and CompareTo of the assembly's types that library generics were instantiated
            // with: dictionaries and comparers call them on the worker's behalf.
            int before = _visited.Count;
            foreach (Type type in _callbackTypes.ToArray())
            {
                foreach (MethodInfo m in type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (m.Name is "Equals" or "GetHashCode" or "CompareTo" && m.GetMethodBody() is not null)
                        Enqueue(m, from: null);
                }
            }
            if (_queue.Count == 0 && _visited.Count == before)
                return this;
        }
    }

    /// <summary>The name a method is shown and stopped by: its declaring types without generic arity, then its name.</summary>
    public static string Name(MethodBase method) => $"{TypeName(method.DeclaringType!)}.{method.Name}";

    /// <summary>A type's name without namespace or generic arity, nested types joined with dots.</summary>
    public static string TypeName(Type type)
    {
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
            name = name[..tick];
        return type.IsNested && !type.IsGenericParameter ? $"{TypeName(type.DeclaringType!)}.{name}" : name;
    }

    /// <summary>Why a call to a method outside the walked assembly is forbidden on a lock-free path, or null when it is not.</summary>
    public static string? Forbidden(MethodBase callee)
    {
        Type type = callee.DeclaringType!;
        Type definition = type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        string name = callee.Name;
        if (type == typeof(Interlocked))
            return "Interlocked";
        if (type == typeof(Monitor))
            return "Monitor (a lock statement on an object)";
        if (type == typeof(Lock) && name is "Enter" or "TryEnter" or "EnterScope")
            return "Lock." + name;
        if (callee.IsConstructor)
            return null;
        if (typeof(WaitHandle).IsAssignableFrom(type) || type == typeof(SemaphoreSlim) || type == typeof(SpinLock)
            || type == typeof(ReaderWriterLockSlim) || type == typeof(ReaderWriterLock) || type == typeof(ManualResetEventSlim)
            || type == typeof(CountdownEvent) || type == typeof(Barrier))
            return $"{type.Name} (blocks or takes its own lock)";
        if (type.Namespace == "System.Collections.Concurrent"
            && !(definition == typeof(System.Collections.Concurrent.ConcurrentDictionary<,>) && name is "TryGetValue" or "ContainsKey" or "get_Item"))
            return $"{TypeName(type)}.{name} (takes the collection's locks or uses Interlocked)";
        if (type.FullName?.StartsWith("System.Buffers.", StringComparison.Ordinal) == true && type.Name.Contains("ArrayPool", StringComparison.Ordinal))
            return "ArrayPool (the shared pool's per-core stacks lock and use Interlocked)";
        if (type == typeof(ThreadPool) || type == typeof(Timer) || type == typeof(Task) || definition == typeof(Task<>)
            || type == typeof(TaskFactory) || type == typeof(Parallel))
            return $"{type.Name}.{name} (queues work: the thread pool's queues use Interlocked)";
        if (definition == typeof(Lazy<>) && name == "get_Value")
            return "Lazy<T>.Value (may lock)";
        return null;
    }

    private void Scan(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
            return;
        Module module = method.Module;
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        Type? constrained = null;
        foreach ((OpCode op, int token) in Instructions(il))
        {
            if (op == OpCodes.Constrained)
            {
                constrained = module.ResolveType(token, typeArguments, methodArguments);
                continue;
            }
            if (op == OpCodes.Calli)
            {
                _violations.Add(new Violation("calli (an indirect call this walk cannot follow)", Chain(Key(method))));
            }
            else if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
            {
                MethodBase callee = module.ResolveMethod(token, typeArguments, methodArguments)!;
                Call(method, callee, isVirtual: op == OpCodes.Callvirt, constrained);
            }
            constrained = null;
        }
    }

    private void Call(MethodBase caller, MethodBase callee, bool isVirtual, Type? constrained)
    {
        if (StopFor(callee) is { } stop)
        {
            _stopsReached.TryAdd(stop, string.Join(" -> ", Chain(Key(caller))) + " -> " + Name(callee));
            return;
        }
        if (typeof(Delegate).IsAssignableFrom(callee.DeclaringType) && callee.Name == "Invoke")
        {
            _external.Add(Name(callee));
            foreach ((Type delegateType, MethodBase target) in _delegateTargets)
            {
                if (CanBeSame(delegateType, callee.DeclaringType!))
                    Enqueue(target, Key(caller));
            }
            return;
        }
        // Dispatched: a callvirt, or a call through a constrained. prefix (static abstract interface members).
        bool dispatched = isVirtual || constrained is not null || callee.IsAbstract;
        if (!dispatched || !callee.IsVirtual || callee.IsFinal || (callee.DeclaringType!.IsSealed && !callee.DeclaringType.IsInterface))
        {
            if (Follows(callee.Module.Assembly))
            {
                Enqueue(callee, Key(caller));
                return;
            }
            External(caller, callee);
            return;
        }
        // Virtual dispatch: the one implementation a constrained concrete type has, else every one in the assembly.
        if (constrained is { IsGenericParameter: false } && Implementation(constrained, callee) is { } exact)
        {
            if (Follows(exact.Module.Assembly))
                Enqueue(exact, Key(caller));
            else
                External(caller, exact);
            return;
        }
        if (!Follows(callee.Module.Assembly))
            External(caller, callee);
        else if (callee.GetMethodBody() is not null)
            Enqueue(callee, Key(caller));
        foreach (MethodBase implementation in Implementations(callee))
            Enqueue(implementation, Key(caller));
    }

    private void External(MethodBase caller, MethodBase callee)
    {
        _external.Add(Name(callee));
        foreach (Type argument in GenericArguments(callee))
        {
            if (Follows(argument.Assembly) && !argument.IsGenericParameter)
                _callbackTypes.Add(Definition(argument));
        }
        if (Forbidden(callee) is { } why)
            _violations.Add(new Violation($"{Name(callee)}: {why}", Chain(Key(caller))));
    }

    private static IEnumerable<Type> GenericArguments(MethodBase method)
    {
        IEnumerable<Type> types = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : [];
        if (method is MethodInfo { IsGenericMethod: true } m)
            types = types.Concat(m.GetGenericArguments());
        return types;
    }

    private void Enqueue(MethodBase method, MethodKey? from)
    {
        MethodKey key = Key(method);
        if (_visited.ContainsKey(key))
            return;
        if (StopFor(method) is { } stop)
        {
            _stopsReached.TryAdd(stop, string.Join(" -> ", from is { } f ? Chain(f) : []) + " -> " + Name(method));
            return;
        }
        _visited[key] = method;
        _parent[key] = from;
        _queue.Enqueue(method);
    }

    // The stop entry naming method, either by itself or as "Type.*" for every member of its type.
    private string? StopFor(MethodBase method)
    {
        string name = Name(method);
        if (_stops.ContainsKey(name))
            return name;
        string all = TypeName(method.DeclaringType!) + ".*";
        return _stops.ContainsKey(all) ? all : null;
    }

    private List<string> Chain(MethodKey key)
    {
        var chain = new List<string>();
        for (MethodKey? k = key; k is { } current; k = _parent[current])
            chain.Add(Name(_visited[current]));
        chain.Reverse();
        return chain;
    }

    // Every implementation or override of callee among the assembly's types.
    private IEnumerable<MethodBase> Implementations(MethodBase callee)
    {
        Type declaring = callee.DeclaringType!;
        (Module, int) wanted = Definition(callee);
        foreach (Type type in _types)
        {
            if (type.IsInterface)
                continue;
            if (declaring.IsInterface)
            {
                foreach (Type implemented in type.GetInterfaces())
                {
                    if (!CanBeSame(implemented, declaring))
                        continue;
                    InterfaceMapping map = type.GetInterfaceMap(implemented);
                    for (int i = 0; i < map.InterfaceMethods.Length; i++)
                    {
                        if (Definition(map.InterfaceMethods[i]) == wanted && Follows(map.TargetMethods[i].Module.Assembly)
                            && map.TargetMethods[i].GetMethodBody() is not null)
                            yield return map.TargetMethods[i];
                    }
                }
                continue;
            }
            foreach (MethodInfo m in type.GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (m.IsVirtual && m.GetMethodBody() is not null && Definition(m.GetBaseDefinition()) == Definition(((MethodInfo)callee).GetBaseDefinition()))
                    yield return m;
            }
        }
    }

    // The method a call to callee runs on a value of exactly type (a constrained. prefix), or null when not found.
    private static MethodBase? Implementation(Type type, MethodBase callee)
    {
        Type declaring = callee.DeclaringType!;
        if (declaring.IsInterface)
        {
            foreach (Type implemented in type.GetInterfaces())
            {
                if (!CanBeSame(implemented, declaring))
                    continue;
                InterfaceMapping map = type.GetInterfaceMap(implemented);
                for (int i = 0; i < map.InterfaceMethods.Length; i++)
                {
                    if (Definition(map.InterfaceMethods[i]) == Definition(callee))
                        return map.TargetMethods[i];
                }
            }
            return null;
        }
        Type[] parameters = [.. callee.GetParameters().Select(p => p.ParameterType)];
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            MethodInfo? found = t.GetMethod(callee.Name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly, parameters);
            if (found is not null)
                return found;
        }
        return null;
    }

    // Methods turned into delegates anywhere in the assembly (ldftn or ldvirtftn, then newobj of the delegate), by delegate type.
    private void FindDelegateTargets()
    {
        foreach (Type type in _types)
        {
            const BindingFlags all = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (MethodBase method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
                if (il is null)
                    continue;
                Type[]? typeArguments = type.IsGenericType ? type.GetGenericArguments() : null;
                Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
                MethodBase? pending = null;
                foreach ((OpCode op, int token) in Instructions(il))
                {
                    if (op == OpCodes.Ldftn || op == OpCodes.Ldvirtftn)
                    {
                        pending = method.Module.ResolveMethod(token, typeArguments, methodArguments);
                        continue;
                    }
                    if (op == OpCodes.Newobj && pending is not null)
                    {
                        MethodBase constructor = method.Module.ResolveMethod(token, typeArguments, methodArguments)!;
                        if (typeof(Delegate).IsAssignableFrom(constructor.DeclaringType) && Follows(pending.Module.Assembly))
                            _delegateTargets.Add((constructor.DeclaringType!, pending));
                    }
                    pending = null;
                }
            }
        }
    }

    /// <summary>The instructions of a method body with their operand, for the opcodes that carry a 32-bit token (0 for the others).</summary>
    public static List<(OpCode OpCode, int Token)> Instructions(byte[] il)
    {
        var result = new List<(OpCode, int)>();
        int at = 0;
        while (at < il.Length)
        {
            OpCode op = il[at] == 0xFE ? s_twoByte[il[++at]] : s_oneByte[il[at]];
            at++;
            int token = 0;
            switch (op.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    at += 1;
                    break;
                case OperandType.InlineVar:
                    at += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    at += 8;
                    break;
                case OperandType.InlineSwitch:
                    at += 4 + (4 * BitConverter.ToInt32(il, at));
                    break;
                default:
                    token = BitConverter.ToInt32(il, at);
                    at += 4;
                    break;
            }
            result.Add((op, token));
        }
        return result;
    }

    private static Type Definition(Type type) => type.IsGenericType ? type.GetGenericTypeDefinition() : type;

    // Which method a member is, whatever it was instantiated with.
    private static (Module, int) Definition(MethodBase method) => (method.Module, method.MetadataToken);

    // Two types that may be the same at run time: equal, or of one generic definition with arguments that are equal
    // or still open (code of a generic type is walked once for all instantiations it was reached with open).
    private static bool CanBeSame(Type a, Type b)
    {
        if (a == b)
            return true;
        if (!a.IsGenericType || !b.IsGenericType || a.GetGenericTypeDefinition() != b.GetGenericTypeDefinition())
            return false;
        Type[] x = a.GetGenericArguments(), y = b.GetGenericArguments();
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] != y[i] && !x[i].ContainsGenericParameters && !y[i].ContainsGenericParameters && !CanBeSame(x[i], y[i]))
                return false;
        }
        return true;
    }

    // A method as instantiated: generic code reached with known type arguments is walked with them, so a constrained
    // call on a type parameter resolves to the one implementation that instantiation uses.
    private static MethodKey Key(MethodBase method) =>
        new(method.Module, method.MetadataToken, method.DeclaringType!, method.IsGenericMethod ? string.Join(",", method.GetGenericArguments().Select(a => a.ToString())) : "");

    private readonly record struct MethodKey(Module Module, int Token, Type DeclaringType, string MethodArguments);

    /// <summary>A forbidden call and the chain of calls from an entry point to the method that makes it.</summary>
    public sealed record Violation(string Call, IReadOnlyList<string> Chain)
    {
        public override string ToString() => $"{string.Join(" -> ", Chain)} -> {Call}";
    }
}
