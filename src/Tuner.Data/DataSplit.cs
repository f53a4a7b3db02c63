namespace Tuner.Data;

/// <summary>Seeded train/validation splits.</summary>
public static class DataSplit
{
    /// <summary>
    /// Splits keeping each class's share in both parts: within every label, a seeded shuffle puts
    /// round(n x <paramref name="validationFraction"/>) items in validation and the rest in training.
    /// </summary>
    public static (IReadOnlyList<T> Train, IReadOnlyList<T> Validation) Stratified<T>(
        IReadOnlyList<T> items, Func<T, int> label, double validationFraction, int seed)
    {
        if (validationFraction is < 0 or >= 1 || double.IsNaN(validationFraction))
        {
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "must be in [0, 1)");
        }

        var random = new Random(seed);
        var train = new List<T>(items.Count);
        var validation = new List<T>((int)(items.Count * validationFraction) + 1);
        foreach (var group in items.Select((item, index) => (item, index)).GroupBy(p => label(p.item)).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            var take = (int)Math.Round(members.Length * validationFraction);
            validation.AddRange(members.Take(take).OrderBy(p => p.index).Select(p => p.item));
            train.AddRange(members.Skip(take).OrderBy(p => p.index).Select(p => p.item));
        }

        return (train, validation);
    }
}
