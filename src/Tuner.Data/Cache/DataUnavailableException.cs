namespace Tuner.Data.Cache;

/// <summary>A data set is not in the cache and cannot be fetched, or what is there is damaged.</summary>
public sealed class DataUnavailableException : Exception
{
    public DataUnavailableException()
    {
    }

    public DataUnavailableException(string message)
        : base(message)
    {
    }

    public DataUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
