namespace Tuner.Training.Training;

/// <summary>One epoch's report: mean training loss, validation loss and accuracy, and the learning rate it trained with.</summary>
public readonly record struct EpochMetrics(double TrainLoss, double ValidLoss, double Accuracy, double LearningRate);
