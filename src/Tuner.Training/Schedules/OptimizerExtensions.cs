using TorchSharp.Modules;

namespace Tuner.Training.Schedules;

public static class OptimizerExtensions
{
    /// <summary>Sets each parameter group of <paramref name="optimizer"/> to the schedule's current rate times its scale (1 when none is given).</summary>
    public static void ApplyLearningRate(this OptimizerHelper optimizer, LearningRateSchedule schedule, IReadOnlyList<double>? scales = null)
    {
        var i = 0;
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = schedule.Current * (scales is null || i >= scales.Count ? 1 : scales[i]);
            i++;
        }
    }
}
