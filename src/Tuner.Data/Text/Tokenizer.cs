using System.Text.RegularExpressions;

namespace Tuner.Data.Text;

/// <summary>Lower-cases and splits text into words (letters, digits and inner apostrophes).</summary>
public static partial class Tokenizer
{
    public static string[] Tokenize(string text) =>
        [.. Word().Matches(text.ToLowerInvariant()).Select(m => m.Value)];

    [GeneratedRegex(@"[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*")]
    private static partial Regex Word();
}
