using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>The run folder at an experiment's end: written out (closed, or kept open for a resume of a stopped one); returns the end event for watchers.</summary>
internal static class ExperimentFiles
{
    public static async Task<ExperimentEvent> WriteEndAsync(ExperimentController controller, ExperimentOutputs outputs, Action updateDocument, Action<IOException> writeFailed)
    {
        var status = controller.Status;
        updateDocument();
        if (outputs.Sinks is { } sinks)
        {
            // TensorBoard's files written out, MLflow's queue sent (or given up on): a failing sink never fails the experiment.
            if (controller.Spec.IsMultiObjective)
            {
                sinks.ParetoFront([.. controller.ParetoFront().Select(t => t.TrialId)]);
            }

            await sinks.ExperimentEndedAsync(status, controller.EndedAt!.Value);
            if (status != ExperimentStatus.Stopped)
            {
                await sinks.DisposeAsync();
                outputs.Sinks = null;
            }
        }

        // The end went into the journal before the folder is closed; watchers see it once the files are written.
        var end = outputs.PendingEnd!;
        outputs.PendingEnd = null;
        try
        {
            if (status == ExperimentStatus.Stopped)
            {
                // Everything written, the folder kept open: a stopped experiment may be resumed.
                outputs.Writer!.Flush(force: true);
            }
            else
            {
                await outputs.Writer!.DisposeAsync();
            }
        }
        catch (IOException ex)
        {
            // The results could not all be written: say so rather than leave the experiment running forever.
            controller.FailedToWrite($"could not write the results: {ex.InnerException?.Message ?? ex.Message}");
            writeFailed(ex);
            end = end with { ExperimentStatus = controller.Status, Message = controller.StatusReason };
        }

        if (status != ExperimentStatus.Stopped)
        {
            // Closed with the folder.
            outputs.Journal = null;
        }

        return end;
    }
}
