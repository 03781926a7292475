namespace XdpStack.Xdp.Bpf;

/// <summary>Kernel helper function ids (enum bpf_func_id) the programs here call.</summary>
public enum BpfHelper
{
    /// <summary>void *bpf_map_lookup_elem(map, key).</summary>
    MapLookupElem = 1,

    /// <summary>long bpf_redirect_map(map, key, flags): the low bits of flags are the action when the key is missing.</summary>
    RedirectMap = 51,
}
