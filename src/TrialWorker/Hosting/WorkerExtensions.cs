using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tuner.Hosting;
using Tuner.Core.Trainables;
using Tuner.Worker.Checkpoints;
using Tuner.Worker.Isolation;

namespace Tuner.Worker.Hosting;

public static class WorkerExtensions
{
    /// <summary>Makes this silo a worker: it offers its slots to the resource scheduler and runs trials.</summary>
    public static ISiloBuilder AddTunerWorker(this ISiloBuilder silo, Action<WorkerOptions>? configure = null)
    {
        silo.Services.AddValidatedOptions(configure);
        silo.UseTrialSizedDirectoryCache();
        silo.Services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<WorkerOptions>>().Value);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton(_ => TrainableRegistry.CreateDefault());
        silo.Services.TryAddSingleton<Tuner.Core.Checkpoints.ICheckpointStore, Tuner.Core.Checkpoints.SharedFolderCheckpointStore>();
        silo.Services.AddSingleton<CheckpointStore>();
        silo.Services.AddSingleton<TrialProcessSupervisor>();
        silo.Services.AddSingleton<Plugins.TrainableAssemblyCache>();
        silo.Services.AddSingleton<Reporting.ResultReporter>();
        silo.Services.AddSingleton<TrialRunner>();
        silo.Services.AddSingleton<TrialWorkerService>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<TrialWorkerService>());
        return silo;
    }
}
