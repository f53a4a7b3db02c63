using Tuner.Observability.Tests.Otlp;

namespace Tuner.Observability.Tests;

/// <summary>
/// An embedded run of the gestures example (<c>tuner run</c>, a GRU trained in trial processes) with
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> pointing at a receiver in the test: spans, metrics and logs arrive
/// over OTLP/HTTP, and they tell one story: one trace per experiment, a span per trial under it, each
/// scheduler decision and each checkpoint under its trial, and the worker's run of a trial under the
/// trial and linked to the scheduler's dispatch.
/// </summary>
public sealed class TelemetryExportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // gestures-gru-quick.yaml, made small: two GRUs of two epochs.
    private const string Spec = """
        name: gestures-otel
        trainable: gestures
        params: { model: rnn, epochs: 2, batch_size: 32, lr: 0.003 }
        metric: valid_loss
        mode: min
        samples: 2
        max_concurrent: 2
        search: { algorithm: random, seed: 42 }
        scheduler: { algorithm: fifo }
        resources: { cpu: 1, gpu: 0 }
        checkpoint: { frequency: 1, keep: 1 }
        space:
          hidden_size: { randint: [16, 33] }
          dropout: { uniform: [0.0, 0.2] }
          num_layers: { randint: [1, 2] }
        """;

    [Fact]
    public async Task AnEmbeddedGesturesRun_ExportsItsSpansMetricsAndLogs_ToTheOtlpEndpoint()
    {
        var root = Directory.CreateTempSubdirectory("tuner-otel-").FullName;
        await using var receiver = await OtlpReceiver.StartAsync();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "spec.yaml"), Spec, Ct);
            var (exit, output) = await CliProcess.RunAsync(
                root,
                ["run", "spec.yaml", "--quiet", "--verbose", "--cpus", "2"],
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Address.ToString().TrimEnd('/'),
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                    ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
                    ["TUNER_DATA_DIR"] = SharedData.Directory,
                },
                TimeSpan.FromMinutes(8),
                Ct);
            Assert.True(exit == 0, output);
            Assert.Empty(receiver.Unexpected);

            // Traces: one experiment span; everything else of the run in its trace.
            var spans = receiver.Spans().ToList();
            var experiment = Assert.Single(spans, s => s.Span.Name == "experiment gestures-otel");
            Assert.Equal("tuner-embedded", experiment.Resource.Attributes.Attribute("service.name"));
            var trace = experiment.Span.TraceId.Hex();
            var experimentId = experiment.Span.Attributes.Attribute("tuner.experiment.id");
            Assert.StartsWith("gestures-otel", experimentId, StringComparison.Ordinal);
            Assert.Equal("fifo", experiment.Span.Attributes.Attribute("tuner.scheduler"));

            var trials = spans.Where(s => s.Span.Name.StartsWith("trial t", StringComparison.Ordinal)).Select(s => s.Span).ToList();
            Assert.Equal(["trial t00001", "trial t00002"], trials.Select(t => t.Name).Order());
            foreach (var trial in trials)
            {
                Assert.Equal(trace, trial.TraceId.Hex());
                Assert.Equal(experiment.Span.SpanId, trial.ParentSpanId);
                Assert.Equal("TERMINATED", trial.Attributes.Attribute("tuner.trial.status"));
                Assert.Equal("2", trial.Attributes.Attribute("tuner.trial.iterations"));
                Assert.NotNull(trial.Attributes.Attribute("tuner.param.hidden_size"));
            }

            var trialIds = trials.Select(t => t.SpanId).ToHashSet();

            // Every result was decided on, under its trial: 2 trials x 2 epochs.
            var decisions = spans.Where(s => s.Span.Name == "scheduler.decide").Select(s => s.Span).ToList();
            Assert.Equal(4, decisions.Count);
            Assert.All(decisions, d => Assert.Contains(d.ParentSpanId, trialIds));
            Assert.All(decisions, d => Assert.Equal("continue", d.Attributes.Attribute("tuner.decision")));

            // Checkpoints, recorded by the worker, under their trials.
            var checkpoints = spans.Where(s => s.Span.Name == "checkpoint").Select(s => s.Span).ToList();
            Assert.NotEmpty(checkpoints);
            Assert.All(checkpoints, c => Assert.Contains(c.ParentSpanId, trialIds));

            // The worker's run of each trial: under the trial, linked to the scheduler's dispatch of it
            // (which Orleans' activity propagation carried to the worker).
            var dispatches = spans.Where(s => s.Span.Name == "scheduler.dispatch").Select(s => s.Span).ToList();
            Assert.Equal(2, dispatches.Count);
            var runs = spans.Where(s => s.Span.Name == "trial.run").Select(s => s.Span).ToList();
            Assert.Equal(2, runs.Count);
            foreach (var run in runs)
            {
                Assert.Contains(run.ParentSpanId, trialIds);
                Assert.Equal("finished", run.Attributes.Attribute("tuner.trial.outcome"));
                var dispatch = Assert.Single(dispatches, d => d.ParentSpanId == run.ParentSpanId);
                Assert.Contains(run.Links, l => l.TraceId == dispatch.TraceId && IsWithin(spans.Select(s => s.Span), l.SpanId, dispatch.SpanId));
            }

            // Metrics: the experiment's counts, results, decisions' latency, epoch times and its best value.
            var states = LastPoints(receiver, "tuner.trials").Where(p => p.Attributes.Attribute("experiment") == experimentId).ToList();
            Assert.Equal(2, states.Single(p => p.Attributes.Attribute("state") == "TERMINATED").AsInt);
            Assert.Equal(4, LastPoints(receiver, "tuner.results").Single(p => p.Attributes.Attribute("experiment") == experimentId).AsInt);
            var decided = LastHistograms(receiver, "tuner.decision.duration").Where(p => p.Attributes.Attribute("experiment") == experimentId).ToList();
            Assert.Equal(4UL, decided.Aggregate(0UL, (sum, p) => sum + p.Count));
            Assert.All(decided, p => Assert.Equal("fifo", p.Attributes.Attribute("scheduler")));
            var epochs = LastHistograms(receiver, "tuner.trial.iteration.duration").Single(p => p.Attributes.Attribute("experiment") == experimentId);
            Assert.Equal("embedded", epochs.Attributes.Attribute("worker"));
            Assert.Equal(2UL, epochs.Count);
            Assert.True(epochs.Sum > 0);
            Assert.NotEmpty(LastHistograms(receiver, "tuner.checkpoint.duration"));
            var best = LastPoints(receiver, "tuner.experiment.best").Single(p => p.Attributes.Attribute("experiment") == experimentId);
            Assert.Equal("valid_loss", best.Attributes.Attribute("metric"));
            Assert.InRange(best.AsDouble, 0, 10);
            var used = LastPoints(receiver, "tuner.worker.slots.capacity").Single(p => p.Attributes.Attribute("worker") == "embedded" && p.Attributes.Attribute("resource") == "cpu");
            Assert.Equal(2, used.AsDouble);

            // Logs carry the trace and span of what they are about: the experiment's start is logged in its span.
            var started = Assert.Single(receiver.LogRecords(), l =>
                l.Body?.StringValue?.StartsWith("Experiment {ExperimentId} ({Name}) started", StringComparison.Ordinal) == true
                && l.Attributes.Attribute("ExperimentId") == experimentId);
            Assert.Equal(trace, started.TraceId.Hex());
            Assert.Equal(experiment.Span.SpanId, started.SpanId);

            // TensorBoard, on by default: the HParams experiment in the run folder's root, and in each trial's
            // folder its session, a valid_loss scalar per epoch and its end.
            var folder = Directory.GetDirectories(Path.Combine(root, "runs")).Single();
            var rootEvents = Tuner.Core.Results.TensorBoard.EventFile.Read(Directory.GetFiles(folder, "events.out.tfevents.*").Single()).ToList();
            Assert.Contains(rootEvents, e => e.Summary?.Value.Any(v => v.Tag == Tuner.Core.Results.TensorBoard.TensorBoardSink.ExperimentTag) == true);
            foreach (var trialId in new[] { "t00001", "t00002" })
            {
                var events = Tuner.Core.Results.TensorBoard.EventFile.Read(Directory.GetFiles(Path.Combine(folder, "trials", trialId), "events.out.tfevents.*").Single()).ToList();
                Assert.Equal([1L, 2L], events.Where(e => e.Summary?.Value.Any(v => v.Tag == "valid_loss") == true).Select(e => e.Step));
                Assert.Equal(Tuner.Core.Results.TensorBoard.TensorBoardSink.SessionEndTag, events[^1].Summary.Value.Single().Tag);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>True when <paramref name="spanId"/> is <paramref name="ancestor"/> or a span below it.</summary>
    private static bool IsWithin(IEnumerable<Span> spans, Google.Protobuf.ByteString spanId, Google.Protobuf.ByteString ancestor)
    {
        var parents = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First().ParentSpanId);
        for (var id = spanId; !id.IsEmpty; id = parents.GetValueOrDefault(id, Google.Protobuf.ByteString.Empty))
        {
            if (id == ancestor)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The data points of the last export that had the metric (cumulative sums and gauges: the latest values).</summary>
    private static List<NumberDataPoint> LastPoints(OtlpReceiver receiver, string name)
    {
        var metric = receiver.MetricsNamed(name).LastOrDefault() ?? throw new Xunit.Sdk.XunitException($"no metric {name} was exported");
        return metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => [.. metric.Gauge.DataPoints],
            Metric.DataOneofCase.Sum => [.. metric.Sum.DataPoints],
            _ => throw new Xunit.Sdk.XunitException($"{name} is a {metric.DataCase}, not a gauge or sum"),
        };
    }

    private static List<HistogramDataPoint> LastHistograms(OtlpReceiver receiver, string name)
    {
        var metric = receiver.MetricsNamed(name).LastOrDefault() ?? throw new Xunit.Sdk.XunitException($"no metric {name} was exported");
        Assert.Equal(Metric.DataOneofCase.Histogram, metric.DataCase);
        return [.. metric.Histogram.DataPoints];
    }
}
