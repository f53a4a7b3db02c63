namespace Tuner.Training.Models;

/// <summary>What a batch's input tensor holds; every model takes <c>(input, lengths)</c>.</summary>
public enum InputKind
{
    /// <summary>Feature sequences padded per batch: <c>[batch, time, features]</c>, with each sequence's length.</summary>
    Sequence,

    /// <summary>Token indices padded per batch: <c>[batch, time]</c> (int64, 0 = padding), with lengths.</summary>
    Tokens,

    /// <summary>One-hot bag of words: <c>[batch, vocabulary]</c>, 1 where a word occurs.</summary>
    BagOfWords,

    /// <summary>Images: <c>[batch, channels, height, width]</c>.</summary>
    Image,

    /// <summary>Feature vectors computed beforehand (e.g. by a frozen pretrained network): <c>[batch, features]</c>.</summary>
    Features,
}

/// <summary>The shape of a task's inputs and outputs, which a model family is built to.</summary>
/// <param name="Features">Features per step (sequences), channels (images), or the vocabulary size (tokens, bag of words).</param>
/// <param name="Height">Image height; 0 for other kinds.</param>
/// <param name="Width">Image width; 0 for other kinds.</param>
public sealed record ModelInput(InputKind Kind, int Features, int Classes, int Height = 0, int Width = 0);
