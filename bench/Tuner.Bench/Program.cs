using System.Globalization;
using Tuner.Bench;

// dotnet run -c Release --project bench/Tuner.Bench -- overhead [trials] [reports] [repeats]
// dotnet run -c Release --project bench/Tuner.Bench -- epoch [epochs] [threads]
// dotnet run -c Release --project bench/Tuner.Bench -- memory [epochs] [trials]
// dotnet run -c Release --project bench/Tuner.Bench -- search [seeds] [evaluations]
// dotnet run -c Release --project bench/Tuner.Bench -- cmaes [seeds=20] [evaluations=1000]
// dotnet run -c Release --project bench/Tuner.Bench -- pareto [seeds=40] [evaluations=200]
// dotnet run -c Release --project bench/Tuner.Bench -- constrained [seeds=40] [evaluations=100]
// dotnet run -c Release --project bench/Tuner.Bench -- fidelity [seeds] [fifo configs] [asha configs] [hyperband configs]
// dotnet run -c Release --project bench/Tuner.Bench -- bookkeeping [trials=2000] [slots=16]      (needs redis-server)
// dotnet run -c Release --project bench/Tuner.Bench -- throughput [trials=96] [results/s=50] [seconds=20]
// dotnet run -c Release --project bench/Tuner.Bench -- scaleout [trials=400] [slots per worker=8]
// dotnet run -c Release --project bench/Tuner.Bench -- scale [trials=100000] [reports=10]
// dotnet run -c Release --project bench/Tuner.Bench -- restore [trials=100000] [reports=10]
// dotnet run -c Release --project bench/Tuner.Bench -- experiments [experiments=20] [trials each=16] [grant trials=20000]   (needs redis-server)
// dotnet run -c Release --project bench/Tuner.Bench -- transfer [epochs=1] [threads=2] [all]
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

    case "memory":
        var memoryRoot = Path.Combine(Directory.GetCurrentDirectory(), "runs", $"bench-memory-{Environment.ProcessId}");
        try
        {
            return await MemoryBenchmark.RunAsync(Arg(1, 100), Arg(2, 10), memoryRoot);
        }
        finally
        {
            if (Directory.Exists(memoryRoot))
            {
                Directory.Delete(memoryRoot, recursive: true);
            }
        }

    case "fidelity":
        return FidelityBenchmark.Run(Arg(1, 40), Arg(2, 30), Arg(3, 42), Arg(4, 39));

    case "search":
        return SearchBenchmark.Run(Arg(1, 40), Arg(2, 100));

    case "cmaes":
        return CmaEsBenchmark.Run(Arg(1, 20), Arg(2, 1000));

    case "pareto":
        return ParetoBenchmark.Run(Arg(1, 40), Arg(2, 200));

    case "constrained":
        return ConstrainedBenchmark.Run(Arg(1, 40), Arg(2, 100));

    case "epoch":
        return await EpochBenchmark.RunAsync(Arg(1, 3), Arg(2, 2));

    case "bookkeeping":
        return await ClusterBenchmark.BookkeepingAsync(Arg(1, 2000), 1.0, Arg(2, 16));

    case "throughput":
        return await ClusterBenchmark.ThroughputAsync(Arg(1, 96), Arg(2, 50), Arg(3, 20));

    case "scaleout":
        return await ClusterBenchmark.ScaleOutAsync(Arg(1, 400), Arg(2, 8));

    case "scale":
        return await ScaleBenchmark.RunAsync(Arg(1, 100_000), Arg(2, 10));

    case "restore":
        return await ScaleBenchmark.RestoreAsync(Arg(1, 100_000), Arg(2, 10), 0.9);

    case "restore-copy":
        return await ScaleBenchmark.RestoreCopyAsync(args[1]);

    case "experiments":
        return await ExperimentsBenchmark.RunAsync(Arg(1, 20), Arg(2, 16), Arg(3, 20_000));

    case "scale-child":
        return await ScaleBenchmark.ChildAsync(args[1], Arg(2, 100_000), Arg(3, 10));

    case "transfer":
        return await TransferBenchmark.RunAsync(Arg(1, 1), Arg(2, 2), args.Contains("all"));

    default:
        Console.Error.WriteLine($"unknown benchmark '{command}'; available: overhead, scale, restore, experiments, epoch, memory, search, cmaes, pareto, constrained, fidelity, bookkeeping, throughput, scaleout, transfer");
        return 2;
}
