using TorchSharp.Modules;

namespace Tuner.Training.Schedules;

public static class OptimizerExtensions
{
    /// <summary>Sets every parameter group of <paramref name="optimizer"/> to the schedule's current rate.</summary>
    public static void ApplyLearningRate(this OptimizerHelper optimizer, LearningRateSchedule schedule)
    {
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = schedule.Current;
        }
    }
}
