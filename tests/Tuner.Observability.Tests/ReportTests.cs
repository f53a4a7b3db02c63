using System.Text.RegularExpressions;
using SkiaSharp;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Observability.Tests;

/// <summary>
/// <c>tuner report RUN_DIR</c> on an ASHA run: a self-contained page (charts inline, nothing fetched from
/// anywhere) and the PNGs beside it, rendered by headless Chromium into a screenshot that is not blank.
/// </summary>
public sealed partial class ReportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheReport_IsSelfContained_HasEveryChart_AndRendersInHeadlessChromium()
    {
        var root = Directory.CreateTempSubdirectory("tuner-report-").FullName;
        try
        {
            var spec = new ExperimentSpec
            {
                Name = "report",
                Trainable = "branin",
                Metric = "value",
                Samples = 30,
                MaxConcurrent = 4,
                Search = new SearchSpec { Algorithm = "random", Seed = 21 },
                Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = 9, GracePeriod = 1, ReductionFactor = 3 },
                Resources = new ResourceSpec { Cpu = 0.5 },
                Space = new Client.Space.SearchSpaceBuilder().Uniform("x1", -5, 10).Uniform("x2", 0, 15).Choice("noise", 0.0, 1.0).Build(),
            };
            string directory;
            await using (var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = 2 }, Ct))
            {
                directory = (await tuner.Client.RunAsync(spec, Path.Combine(root, "runs"), cancellationToken: Ct)).OutputDirectory!;
            }

            var (exit, output) = await CliProcess.RunAsync(root, ["report", directory], null, TimeSpan.FromMinutes(2), Ct);
            Assert.True(exit == 0, output);
            var page = Path.Combine(directory, "report.html");
            var html = await File.ReadAllTextAsync(page, Ct);

            // Self-contained: every image inline, no address of anything to fetch.
            Assert.DoesNotMatch(ExternalReference(), html);
            var images = InlineImage().Matches(html).Select(m => m.Groups["file"].Value).ToList();
            Assert.Contains("report/learning-curves.png", images);
            Assert.Contains("report/best-over-time.png", images);
            Assert.Contains("report/parallel-coordinates.png", images);
            Assert.Contains("report/importance.png", images);
            Assert.Contains(images, i => i.StartsWith("report/heatmap-", StringComparison.Ordinal));
            foreach (var image in images)
            {
                using var bitmap = SKBitmap.Decode(Path.Combine(directory, image));
                Assert.True(bitmap is { Width: > 500, Height: > 300 }, $"{image} is not a chart-sized PNG");
            }

            // ASHA stopped most trials at a rung; the heatmaps say which budget they were built at.
            var stopped = StoppedAt().Count(html);
            Assert.True(stopped >= 10, $"only {stopped} trials are shown as stopped early");
            Assert.Matches(@"only from the \d+ trials that reached iteration 9", html);
            Assert.Contains("<p id=\"best\">", html, StringComparison.Ordinal);

            // Rendered by a browser with nothing but the file: not blank, the charts' colours there.
            var screenshot = Path.Combine(root, "report.png");
            await Chromium.ScreenshotAsync(new Uri(page).AbsoluteUri, screenshot, 1200, 2400, Ct);
            using var shot = SKBitmap.Decode(screenshot);
            var (inked, colours) = Ink(shot);
            Assert.True(inked > 0.05, $"the screenshot is {inked:P1} non-white: blank");
            Assert.True(colours > 200, $"the screenshot has {colours} colours: no charts drawn");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The share of pixels that are not (near) white, and how many distinct colours there are.</summary>
    private static (double Inked, int Colours) Ink(SKBitmap bitmap)
    {
        var inked = 0;
        var colours = new HashSet<uint>();
        for (var y = 0; y < bitmap.Height; y += 2)
        {
            for (var x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                colours.Add((uint)c);
                if (c.Red < 235 || c.Green < 235 || c.Blue < 235)
                {
                    inked++;
                }
            }
        }

        return ((double)inked / ((bitmap.Height / 2) * (bitmap.Width / 2)), colours.Count);
    }

    [GeneratedRegex(@"(src|href)\s*=\s*""(https?:|//)")]
    private static partial Regex ExternalReference();

    [GeneratedRegex(@"<img alt=""[^""]*"" src=""data:image/png;base64,[A-Za-z0-9+/=]+"" data-file=""(?<file>[^""]+)"">")]
    private static partial Regex InlineImage();

    [GeneratedRegex(@"<td>\d+: asha[^<]*</td></tr>")]
    private static partial Regex StoppedAt();
}
