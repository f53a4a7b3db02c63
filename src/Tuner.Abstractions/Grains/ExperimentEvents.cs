using Tuner.Core.Experiments;
using System.Runtime.CompilerServices;
using Tuner.Abstractions.Messages;

namespace Tuner.Abstractions.Grains;

public static class ExperimentEvents
{
    /// <summary>
    /// Every event after <paramref name="after"/>, then new ones as they happen, page by page, until the
    /// experiment has ended and all were read; the one reading loop behind the API's watch stream and the
    /// in-process client's. Events older than the experiment still holds are a <see cref="TunerRequestException"/>
    /// with <see cref="RequestFailure.OutOfRange"/>.
    /// </summary>
    public static async IAsyncEnumerable<ExperimentEvent> ReadAllAsync(this IExperimentGrain experiment, long after, TimeSpan wait, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var page = await experiment.ReadEventsAsync(after, 500, wait).WaitAsync(cancellationToken);
            if (page.FirstHeld > after + 1)
            {
                throw new TunerRequestException(RequestFailure.OutOfRange, $"events up to position {page.FirstHeld - 1} are no longer held; watch from there or get the experiment's state");
            }

            foreach (var e in page.Events)
            {
                yield return e;
                after = e.Position;
            }

            if (page.Ended)
            {
                yield break;
            }
        }
    }
}
