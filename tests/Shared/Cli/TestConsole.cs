using Spectre.Console;

namespace Tuner.Tests;

/// <summary>A plain, wide, non-interactive console whose output the test reads back.</summary>
internal static class TestConsole
{
    public static (IAnsiConsole Console, StringWriter Output) Create(int width = 160)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = width;
        return (console, writer);
    }
}
