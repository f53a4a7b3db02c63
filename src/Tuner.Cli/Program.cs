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

return await TunerCli.RunAsync(args, cancellationToken: interrupted.Token);
