using XdpStack.Xdp;

namespace XdpStack.Appliance.Cli;

/// <summary>The user's copy and attach choices in the AF_XDP library's terms, for every command that binds sockets.</summary>
internal static class ModeMapping
{
    public static XskBindMode ToBindMode(this CopyMode mode) => mode switch
    {
        CopyMode.Copy => XskBindMode.Copy,
        CopyMode.ZeroCopy => XskBindMode.ZeroCopy,
        _ => XskBindMode.Auto,
    };

    public static XdpAttachMode ToAttachMode(this AttachMode mode) => mode switch
    {
        AttachMode.Native => XdpAttachMode.Native,
        AttachMode.Generic => XdpAttachMode.Generic,
        _ => XdpAttachMode.Auto,
    };
}
