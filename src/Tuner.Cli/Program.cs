using Tuner.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the experiment cleanly (results are kept); a second one ends the process.
    if (!interrupted.IsCancellationRequested)
    {
        e.Cancel = true;
        interrupted.Cancel();
    }
};

// Logs and files are read on wide screens: do not wrap sentences at 80 columns there.
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 120;
}

return await TunerCli.RunAsync(args, cancellationToken: interrupted.Token);
