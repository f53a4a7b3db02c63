using Microsoft.Extensions.Configuration;

namespace Tuner.Scheduler.Hosting;

/// <summary>
/// Addresses from configuration that replace an options class's default ones: the binder adds the
/// configured items to the list a property starts with, so <c>Urls:0</c> alone would listen on the
/// default address too.
/// </summary>
internal static class ConfiguredAddresses
{
    /// <summary>The section's <c>Urls</c> items, or null when none are configured.</summary>
    public static List<string>? Read(IConfiguration section) =>
        section.GetSection("Urls").GetChildren().Select(c => c.Value).OfType<string>().ToList() is { Count: > 0 } urls ? urls : null;
}
