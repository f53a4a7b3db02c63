using System.Globalization;
using Tuner.Bench;

// dotnet run -c Release --project bench/Tuner.Bench -- overhead [trials] [reports] [repeats]
var command = args.FirstOrDefault() ?? "overhead";
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 200;
}

int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
switch (command)
{
    case "overhead":
        // Results go where a user's would (under ./runs), and are removed afterwards.
        var output = Path.Combine(Directory.GetCurrentDirectory(), "runs", $"bench-{Environment.ProcessId}");
        try
        {
            return await OverheadBenchmark.RunAsync(Arg(1, 1000), Arg(2, 10), Arg(3, 3), output);
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }

    default:
        Console.Error.WriteLine($"unknown benchmark '{command}'; available: overhead");
        return 2;
}
