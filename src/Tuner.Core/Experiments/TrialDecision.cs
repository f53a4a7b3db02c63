using System.Globalization;

namespace Tuner.Core.Experiments;

/// <summary>
/// A decision about a trial other than "continue", with why: <c>pause</c> or <c>stop</c> after the
/// result at <see cref="Iteration"/> (the scheduler's, with the rung, the cutoff and the values
/// compared, or a stop rule's), <c>resume</c> from its checkpoint, or <c>exploit</c> (resumed from a copy
/// of another trial's checkpoint with a new config).
/// </summary>
public sealed record TrialDecision(long Iteration, string Action, string Reason)
{
    public override string ToString() => $"{Action} at {Iteration.ToString(CultureInfo.InvariantCulture)}: {Reason}";
}
