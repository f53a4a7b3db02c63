using System.Buffers.Binary;
using System.Text;

namespace Tuner.Training.Native;

/// <summary>
/// Reads and edits the version requirements (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF
/// shared object: which library versions it needs, whether any relocation uses a symbol of a given
/// version, and marking a requirement weak (<c>VER_FLG_WEAK</c>) so the loader does not refuse it.
/// </summary>
internal sealed class ElfVersionNeeds
{
    private const uint ShtRela = 4;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlagWeak = 0x2;

    private readonly byte[] _elf;
    private readonly List<Section> _sections = [];

    public ElfVersionNeeds(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        }

        _elf = elf;
        var sectionOffset = (int)U64(0x28);
        var entrySize = U16(0x3A);
        var count = U16(0x3C);
        for (var i = 0; i < count; i++)
        {
            var at = sectionOffset + (i * entrySize);
            _sections.Add(new Section(U32(at + 4), (int)U64(at + 0x18), (int)U64(at + 0x20), (int)U32(at + 0x28), (int)U64(at + 0x38)));
        }
    }

    /// <summary>A version this object needs from a library, and where its flags are.</summary>
    public sealed record Need(string Library, string Version, ushort Flags, ushort Index, int FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    public IReadOnlyList<Need> Needs()
    {
        var result = new List<Need>();
        foreach (var section in _sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strings = _sections[section.Link];
            var at = section.Offset;
            while (true)
            {
                var count = U16(at + 2);
                var file = String(strings, U32(at + 4));
                var aux = at + (int)U32(at + 8);
                for (var i = 0; i < count; i++)
                {
                    result.Add(new Need(file, String(strings, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    aux += (int)U32(aux + 12);
                }

                var next = (int)U32(at + 12);
                if (next == 0)
                {
                    break;
                }

                at += next;
            }
        }

        return result;
    }

    /// <summary>True when some dynamic relocation refers to a symbol bound to <paramref name="need"/>'s version.</summary>
    public bool IsUsedByARelocation(Need need)
    {
        var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (versym is null)
        {
            return false;
        }

        foreach (var rela in _sections.Where(s => s.Type == ShtRela && s.EntrySize == 24))
        {
            for (var at = rela.Offset; at < rela.Offset + rela.Size; at += 24)
            {
                var symbol = (int)(U64(at + 8) >> 32);
                if (symbol != 0 && (U16(versym.Offset + (symbol * 2)) & 0x7fff) == need.Index)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Marks the requirement weak in the bytes this reader holds.</summary>
    public void MarkWeak(Need need) => BinaryPrimitives.WriteUInt16LittleEndian(_elf.AsSpan(need.FlagsOffset), (ushort)(need.Flags | VerFlagWeak));

    private string String(Section strings, uint offset)
    {
        var start = strings.Offset + (int)offset;
        var end = Array.IndexOf(_elf, (byte)0, start);
        return Encoding.ASCII.GetString(_elf, start, end - start);
    }

    private ushort U16(int at) => BinaryPrimitives.ReadUInt16LittleEndian(_elf.AsSpan(at));

    private uint U32(int at) => BinaryPrimitives.ReadUInt32LittleEndian(_elf.AsSpan(at));

    private ulong U64(int at) => BinaryPrimitives.ReadUInt64LittleEndian(_elf.AsSpan(at));

    private sealed record Section(uint Type, int Offset, int Size, int Link, int EntrySize);
}
