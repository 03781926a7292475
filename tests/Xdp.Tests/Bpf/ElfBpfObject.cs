using System.Buffers.Binary;
using System.Text;
using XdpStack.Xdp.Bpf;

namespace XdpStack.Xdp.Tests.Bpf;

/// <summary>
/// Just enough of an ELF64 reader to load a clang-built BPF object through our own loader:
/// one program section's instructions, its map relocations and the license.
/// </summary>
internal sealed class ElfBpfObject
{
    private const uint SHT_SYMTAB = 2;
    private const uint SHT_REL = 9;
    private const byte BPF_PSEUDO_MAP_FD = 1;

    private ElfBpfObject(ulong[] slots, List<(int Slot, string Symbol)> relocations, string license)
    {
        Slots = slots;
        Relocations = relocations;
        License = license;
    }

    /// <summary>The section's raw instruction slots.</summary>
    public ulong[] Slots { get; }

    /// <summary>ld_imm64 slots that must point at a map, with the map's symbol name.</summary>
    public List<(int Slot, string Symbol)> Relocations { get; }

    public string License { get; }

    public static ElfBpfObject Read(string path, string section)
    {
        byte[] elf = File.ReadAllBytes(path);
        ReadOnlySpan<byte> e = elf;
        if (e[0] != 0x7f || !e[1..4].SequenceEqual("ELF"u8) || e[4] != 2 /* ELFCLASS64 */ || e[5] != 1 /* ELFDATA2LSB */)
            throw new InvalidDataException("not a little-endian ELF64 file");
        if (BinaryPrimitives.ReadUInt16LittleEndian(e[18..]) != 247)
            throw new InvalidDataException("not a BPF object (e_machine != EM_BPF)");
        ulong shoff = BinaryPrimitives.ReadUInt64LittleEndian(e[0x28..]);
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3a..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3c..]);
        int shstrndx = BinaryPrimitives.ReadUInt16LittleEndian(e[0x3e..]);

        var sections = new (string Name, uint Type, ulong Offset, ulong Size, uint Link, uint Info)[shnum];
        for (int i = 0; i < shnum; i++)
        {
            ReadOnlySpan<byte> sh = e.Slice((int)shoff + i * shentsize, shentsize);
            sections[i] = ("", BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]), BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]),
                BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]), BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]),
                BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]));
        }
        ulong namesAt = sections[shstrndx].Offset;
        for (int i = 0; i < shnum; i++)
        {
            uint nameOffset = BinaryPrimitives.ReadUInt32LittleEndian(e[((int)shoff + i * shentsize)..]);
            sections[i].Name = CString(e, (int)(namesAt + nameOffset));
        }

        int programIndex = Array.FindIndex(sections, s => s.Name == section);
        if (programIndex < 0)
            throw new InvalidDataException($"no section {section}");
        var program = sections[programIndex];
        ulong[] slots = new ulong[program.Size / 8];
        for (int i = 0; i < slots.Length; i++)
            slots[i] = BinaryPrimitives.ReadUInt64LittleEndian(e[((int)program.Offset + 8 * i)..]);

        var relocations = new List<(int, string)>();
        foreach (var rel in sections.Where(s => s.Type == SHT_REL && s.Info == programIndex))
        {
            var symtab = sections[rel.Link];
            if (symtab.Type != SHT_SYMTAB)
                throw new InvalidDataException("relocation section does not link a symbol table");
            ulong strtab = sections[symtab.Link].Offset;
            for (ulong r = 0; r < rel.Size; r += 16)
            {
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(e[(int)(rel.Offset + r)..]);
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(e[(int)(rel.Offset + r + 8)..]);
                int symbol = (int)(info >> 32);
                uint symbolName = BinaryPrimitives.ReadUInt32LittleEndian(e[(int)(symtab.Offset + (ulong)symbol * 24)..]);
                relocations.Add(((int)(offset / 8), CString(e, (int)(strtab + symbolName))));
            }
        }

        var licenseSection = sections.FirstOrDefault(s => s.Name == "license");
        string license = licenseSection.Name is null ? "" : CString(e, (int)licenseSection.Offset);
        return new ElfBpfObject(slots, relocations, license);
    }

    /// <summary>The instructions with each map relocation turned into ld_imm64 of a map fd.</summary>
    public BpfInstruction[] Relocate(IReadOnlyDictionary<string, int> mapFds)
    {
        BpfInstruction[] program = Slots.Select(BpfInstruction.FromRaw).ToArray();
        foreach ((int slot, string symbol) in Relocations)
        {
            BpfInstruction insn = program[slot];
            if (insn.Code != 0x18)
                throw new InvalidDataException($"relocation at slot {slot} is not ld_imm64");
            program[slot] = new BpfInstruction(insn.Code, insn.Destination, BPF_PSEUDO_MAP_FD, insn.Offset, mapFds[symbol]);
        }
        return program;
    }

    private static string CString(ReadOnlySpan<byte> data, int offset)
    {
        int end = data[offset..].IndexOf((byte)0);
        return Encoding.ASCII.GetString(data.Slice(offset, end));
    }
}
