using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;

namespace Tuner.Worker.Reporting;

/// <summary>
/// Sends this worker's trial results to their experiments in batches. A result goes out at once
/// when no call to its experiment is in flight; results that arrive meanwhile wait for that call's
/// answer and then go together in one message. At a low rate nothing waits; at thousands of results
/// a second the experiment gets a few hundred messages instead of one per result (Ray buffers
/// results on its trial actors for the same reason). Each trial still gets the answer to its own
/// result: continue, pause or stop.
/// </summary>
public sealed class ResultReporter
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Channel> _channels = new(StringComparer.Ordinal);

    /// <summary>The largest batch sent in one message.</summary>
    public const int MaxBatch = 512;

    public Task<TrialCommand> ReportAsync(TrialAssignment assignment, TrialResult result)
    {
        var pending = new Pending(new TrialReport(assignment.TrialId, assignment.Attempt, result));
        Channel channel;
        lock (_gate)
        {
            if (!_channels.TryGetValue(assignment.ExperimentId, out channel!))
            {
                channel = new Channel(assignment.Experiment);
                _channels.Add(assignment.ExperimentId, channel);
            }

            channel.Queue.Add(pending);
            if (channel.Sending)
            {
                return pending.Answer.Task;
            }

            channel.Sending = true;
        }

        _ = SendAsync(assignment.ExperimentId, channel);
        return pending.Answer.Task;
    }

    private async Task SendAsync(string experimentId, Channel channel)
    {
        while (true)
        {
            List<Pending> batch;
            lock (_gate)
            {
                if (channel.Queue.Count == 0)
                {
                    channel.Sending = false;
                    _channels.Remove(experimentId);
                    return;
                }

                var take = Math.Min(channel.Queue.Count, MaxBatch);
                batch = channel.Queue.GetRange(0, take);
                channel.Queue.RemoveRange(0, take);
            }

            try
            {
                var answers = await channel.Experiment.OnTrialResultsAsync([.. batch.Select(p => p.Report)]).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Answer.TrySetResult(answers[i]);
                }
            }
            catch (Exception ex)
            {
                // The experiment could not be reached: each trial's run fails with the cause and is retried from its checkpoint.
                foreach (var pending in batch)
                {
                    pending.Answer.TrySetException(ex);
                }
            }
        }
    }

    private sealed class Channel(IExperimentGrain experiment)
    {
        public IExperimentGrain Experiment { get; } = experiment;

        public List<Pending> Queue { get; } = [];

        public bool Sending { get; set; }
    }

    private sealed class Pending(TrialReport report)
    {
        public TrialReport Report { get; } = report;

        public TaskCompletionSource<TrialCommand> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
