using Tuner.TrialProcess;
using Tuner.Training.Trainables;

// Started by a worker with the protocol's environment; see Tuner.Core.Protocol.TrialProcessProtocol.
return await TrialProcessHost.RunAsync(TrainableCatalog.Create(), Environment.GetEnvironmentVariable, Console.Out, Console.Error);
