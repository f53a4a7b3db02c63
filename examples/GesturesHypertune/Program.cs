using GesturesHypertune;
using Tuner.Client;
using Tuner.Embedded;

// dotnet run --project examples/GesturesHypertune -- [--server URL] [--samples N] [--epochs N] [--csv FILE]
// Without --server, a whole cluster runs in this process; with it, the experiment runs on that
// Scheduler.Silo (its API key from TUNER_API_KEY). The gestures data comes from $TUNER_DATA_DIR.
var options = new HypertuneOptions();
string? server = null;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--server": server = Next(); break;
        case "--samples": options = options with { Samples = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) }; break;
        case "--epochs": options = options with { Epochs = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture) }; break;
        case "--csv": options = options with { CsvPath = Next() }; break;
        default:
            Console.Error.WriteLine($"unknown option '{args[i]}'; allowed: --server URL, --samples N, --epochs N, --csv FILE");
            return 2;
    }
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

if (server is not null)
{
    using var client = new TunerClient(new Uri(server), Environment.GetEnvironmentVariable("TUNER_API_KEY"));
    await Hypertune.RunAsync(client, options, Console.Out, cancel.Token);
}
else
{
    await using var tuner = await EmbeddedTuner.StartAsync();
    await Hypertune.RunAsync(tuner.Client, options, Console.Out, cancel.Token);
}

return 0;
