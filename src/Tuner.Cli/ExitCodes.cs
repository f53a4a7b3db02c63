namespace Tuner.Cli;

/// <summary>What <c>tuner</c> returns to the shell.</summary>
public static class ExitCodes
{
    /// <summary>The experiment completed and no trial ended in ERROR.</summary>
    public const int Success = 0;

    /// <summary>Something failed while running: trials in ERROR, an I/O or cluster failure.</summary>
    public const int RuntimeFailure = 1;

    /// <summary>The spec or the command line is invalid; nothing ran (or the metric was never reported).</summary>
    public const int InvalidInput = 2;

    /// <summary>Stopped by Ctrl+C; what ran until then is recorded.</summary>
    public const int Interrupted = 130;
}
