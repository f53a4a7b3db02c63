using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>A scheduler rebuilt from its journal decides exactly as the original would have.</summary>
public sealed class SchedulerJournalTests
{
    private static ExperimentSpec Spec(SchedulerSpec scheduler) => new()
    {
        Name = "journal",
        Trainable = "noop",
        Metric = "loss",
        Mode = OptimizationMode.Min,
        Samples = 40,
        Scheduler = scheduler,
        Search = new SearchSpec { Seed = 4 },
        Space = new() { ["x"] = Domain.Uniform(0, 1) },
    };

    /// <summary>
    /// Runs trials against the scheduler as an experiment does, up to 4 at a time: each reports until
    /// the scheduler pauses or stops it, paused ones are resumed when the scheduler chooses them.
    /// Returns every answer, in order, for comparison.
    /// </summary>
    private static List<string> Drive(ITrialScheduler scheduler, Dictionary<(string, long), TrialResult> results, int trials, int maxSteps, ref int next, HashSet<string> running, HashSet<string> paused, Dictionary<string, long> at)
    {
        var answers = new List<string>();
        var random = new Random(next);
        for (var step = 0; step < maxSteps; step++)
        {
            foreach (var stop in scheduler.PausedToStop(new SchedulerState([.. paused.Order()], running.Count, next < trials)))
            {
                paused.Remove(stop.TrialId);
                scheduler.OnTrialComplete(stop.TrialId);
                answers.Add($"stop {stop.TrialId}");
            }

            if (running.Count < 4)
            {
                var choice = scheduler.ChooseTrialToRun(new SchedulerState([.. paused.Order()], running.Count, next < trials));
                answers.Add($"choose {choice.Kind} {choice.TrialId}");
                if (choice.Kind == ChoiceKind.Resume && paused.Remove(choice.TrialId!))
                {
                    running.Add(choice.TrialId!);
                }
                else if (choice.Kind == ChoiceKind.StartNew && next < trials)
                {
                    var id = $"t{next++:D3}";
                    scheduler.OnTrialAdd(id, new TrialConfig([new("x", random.NextDouble())]));
                    running.Add(id);
                }
            }

            if (running.Count == 0)
            {
                continue;
            }

            var trial = running.Order().ElementAt(random.Next(running.Count));
            var iteration = at[trial] = at.GetValueOrDefault(trial) + 1;
            var result = new TrialResult(iteration, iteration, 0, new Dictionary<string, double> { ["loss"] = random.NextDouble() / iteration });
            results[(trial, iteration)] = result;
            var decision = scheduler.OnResult(trial, result);
            answers.Add($"{trial}@{iteration} {decision.Action}");
            if (decision.Action == SchedulerAction.Pause)
            {
                running.Remove(trial);
                paused.Add(trial);
            }
            else if (decision.Action == SchedulerAction.Stop || iteration >= 27)
            {
                running.Remove(trial);
                scheduler.OnTrialComplete(trial);
            }
        }

        return answers;
    }

    public static TheoryData<string> Schedulers => ["asha", "asha_promotion", "hyperband", "median", "pbt"];

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void ARestoredScheduler_DecidesExactlyAsTheOriginalWould(string algorithm)
    {
        var spec = Spec(new SchedulerSpec { Algorithm = algorithm, MaxT = 27, GracePeriod = 1, ReductionFactor = 3, PerturbationInterval = 3, MinSamplesRequired = 2 });
        var log = new StringWriter();
        var results = new Dictionary<(string, long), TrialResult>();
        var original = new SchedulerJournal(SchedulerFactory.Create(spec), log);
        int next = 0;
        var (running, paused, at) = (new HashSet<string>(), new HashSet<string>(), new Dictionary<string, long>());
        Drive(original, results, 30, 150, ref next, running, paused, at);

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(lines);
        var restored = SchedulerJournal.Restore(spec, lines, (trial, iteration) => results[(trial, iteration)], null);

        // From here both go on with the same calls: every answer is the same.
        var (n1, n2) = (next, next);
        var expected = Drive(original, new(results), 30, 200, ref n1, [.. running], [.. paused], new(at));
        var actual = Drive(restored, new(results), 30, 200, ref n2, [.. running], [.. paused], new(at));
        Assert.Equal(expected, actual);
        Assert.Contains(expected, a => !a.EndsWith("Continue", StringComparison.Ordinal));
    }

    [Fact]
    public void AJournalThatNoLongerReplays_SaysWhichCallDiffers()
    {
        var spec = Spec(new SchedulerSpec { Algorithm = "asha", MaxT = 27, GracePeriod = 1, ReductionFactor = 3 });
        var log = new StringWriter();
        var results = new Dictionary<(string, long), TrialResult>();
        int next = 0;
        Drive(new SchedulerJournal(SchedulerFactory.Create(spec), log), results, 30, 150, ref next, [], [], []);
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        // Another reduction factor cuts elsewhere: some recorded decision comes out differently.
        var changed = spec with { Scheduler = spec.Scheduler with { ReductionFactor = 2 } };
        var ex = Assert.Throws<InvalidDataException>(() => SchedulerJournal.Restore(changed, lines, (trial, iteration) => results[(trial, iteration)], null));

        Assert.Matches(@"^scheduler journal entry \d+ \(result t\d{3}\): the scheduler answered \w+, now \w+; the spec or the scheduler changed since it was written$", ex.Message);
    }
}
