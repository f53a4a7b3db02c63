using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Tuner.Client;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;
using Tuner.Scheduler.Api;

namespace Tuner.Api.Tests;

/// <summary>Who may call what: keys and roles, TLS, limits, and secrets kept out of logs and results.</summary>
public sealed class ApiSecurityTests
{
    private const string UserKey = "user-key-0123456789abcdef";
    private const string AdminKey = "admin-key-0123456789abcdef";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Keys(TunerApiOptions o)
    {
        o.RequireApiKeys = true;
        o.ApiKeys = [new ApiKey { Name = "alice", Key = UserKey, Role = "user" }, new ApiKey { Name = "ops", Key = AdminKey, Role = "admin" }];
    }

    private static ExperimentSpec Command(string secret) => ApiEndToEndTests.Branin(1) with
    {
        Name = "secret-command",
        Trainable = "sh",
        Custom = new CustomTrainableSpec
        {
            // Reports the secret's length: proof that it arrived, without printing it.
            Command = ["sh", "-c", "echo \"TUNER_REPORT {\\\"value\\\": ${#MY_SECRET}, \\\"done\\\": true}\""],
            WorkingDir = Path.GetTempPath(),
            Env = new Dictionary<string, string> { ["MY_SECRET"] = secret },
        },
        Stop = new StopSpec(),
    };

    [Fact]
    public async Task WithKeysRequired_CallsWithoutAValidKeyAreUnauthenticated_AndNothingRuns()
    {
        await using var server = await TunerServer.StartAsync(Keys);

        foreach (var key in new[] { null, "wrong-key-0123456789abcdef" })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(async () => await server.Raw(key).ListExperimentsAsync(new V1.ListExperimentsRequest(), cancellationToken: Ct));
            Assert.Equal(StatusCode.Unauthenticated, ex.StatusCode);
            var submit = await Assert.ThrowsAsync<RpcException>(async () => await server.Raw(key).SubmitExperimentAsync(new V1.SubmitExperimentRequest { Spec = SpecWriter.ToJson(ApiEndToEndTests.Branin()) }, cancellationToken: Ct));
            Assert.Equal(StatusCode.Unauthenticated, submit.StatusCode);
        }

        // Health stays open for load balancers and orchestrators.
        using var channel = GrpcChannel.ForAddress(server.Address);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), cancellationToken: Ct)).Status);

        using var admin = server.Client(AdminKey);
        Assert.Empty(await admin.ListAsync(Ct));
    }

    [Fact]
    public async Task AUserKey_RunsRegisteredTrainables_ButCustomOnesAndUploadsArePermissionDenied()
    {
        await using var server = await TunerServer.StartAsync(Keys);
        using var user = server.Client(UserKey);
        using var admin = server.Client(AdminKey);

        var grid = await user.RunAsync(ApiEndToEndTests.Branin(2), cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, grid.Status);

        var command = await Assert.ThrowsAsync<RpcException>(() => user.SubmitAsync(Command("s3cret-value"), cancellationToken: Ct));
        Assert.Equal(StatusCode.PermissionDenied, command.StatusCode);

        var folder = Directory.CreateTempSubdirectory("tuner-plugin-").FullName;
        var dll = PluginCompiler.Compile(folder, "Plugin.Quadratic", PluginCompiler.QuadraticSource);
        var upload = await Assert.ThrowsAsync<RpcException>(() => user.SubmitAsync(ApiEndToEndTests.Branin(1) with { Custom = new CustomTrainableSpec { Assembly = dll, Type = "Plugin.Quadratic" } }, cancellationToken: Ct));
        Assert.Equal(StatusCode.PermissionDenied, upload.StatusCode);

        // Nothing of the refused ones ran or was written.
        Assert.Single(await admin.ListAsync(Ct));
        Assert.False(Directory.Exists(Path.Combine(server.OutputRoot, ".code")));
        Assert.False(Directory.Exists(Path.Combine(server.OutputRoot, "secret-command")));

        var allowed = await admin.RunAsync(Command("s3cret-value"), cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, allowed.Status);
    }

    [Fact]
    public async Task SecretsNeverAppearInLogsResultsOrResponses()
    {
        const string secret = "hunter2-very-secret-value";
        await using var server = await TunerServer.StartAsync(Keys);
        using var admin = server.Client(AdminKey);

        var grid = await admin.RunAsync(Command(secret), cancellationToken: Ct);

        Assert.Equal(secret.Length, grid.Trials.Single().LastResult!.GetMetric("value"));
        var raw = await server.Raw(AdminKey).GetExperimentAsync(new V1.GetExperimentRequest { ExperimentId = grid.ExperimentId }, cancellationToken: Ct);
        Assert.Contains("\"MY_SECRET\":\"***\"", raw.Spec, StringComparison.Ordinal);
        var files = Directory.EnumerateFiles(grid.Experiment.OutputDirectory!, "*", SearchOption.AllDirectories).Select(File.ReadAllText).ToList();
        Assert.Contains(files, f => f.Contains("\"MY_SECRET\": \"***\"", StringComparison.Ordinal));
        Assert.DoesNotContain(files, f => f.Contains(secret, StringComparison.Ordinal));
        Assert.NotEmpty(server.Logs.Text);
        Assert.DoesNotContain(secret, server.Logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(AdminKey, server.Logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverTls_TheServiceAnswersClientsThatTrustItsCertificate()
    {
        var dir = Directory.CreateTempSubdirectory("tuner-tls-").FullName;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(dir, "server.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "pw"));

        await using var server = await TunerServer.StartAsync(o =>
        {
            Keys(o);
            o.Urls = ["https://127.0.0.1:0"];
            o.CertificatePath = pfx;
            o.CertificatePassword = "pw";
        });
        Assert.Equal("https", server.Address.Scheme);

        using var trusting = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == certificate.Thumbprint };
        using var client = server.Client(UserKey, trusting);
        Assert.Empty(await client.ListAsync(Ct));

        // A client that does not trust it gets nowhere.
        using var untrusting = server.Client(UserKey);
        await Assert.ThrowsAnyAsync<Exception>(() => untrusting.ListAsync(Ct));
    }

    [Fact]
    public void Settings_ThatWouldExposeTheService_AreRefusedNamingEachSetting()
    {
        var open = new TunerApiOptions { Urls = ["http://0.0.0.0:5080"] };
        var problems = open.Problems();
        Assert.Contains(problems, p => p.Contains("must be https", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Tuner:Api:ApiKeys", StringComparison.Ordinal));
        Assert.Throws<InvalidOperationException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddTunerApi(open));

        var weak = new TunerApiOptions { Urls = ["https://10.0.0.5:5080"], CertificatePath = "/nonexistent.pfx", ApiKeys = [new ApiKey { Key = "short", Role = "root" }] };
        var weakProblems = weak.Problems();
        Assert.Contains(weakProblems, p => p.Contains("CertificatePath", StringComparison.Ordinal) && p.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(weakProblems, p => p.Contains("ApiKeys:0:Key", StringComparison.Ordinal));
        Assert.Contains(weakProblems, p => p.Contains("'root' is not one of the allowed values: user, admin", StringComparison.Ordinal));

        Assert.Empty(new TunerApiOptions().Problems());
        Assert.False(new TunerApiOptions().KeysRequired);
        Assert.True(new TunerApiOptions { Urls = ["https://[::]:5080"] }.KeysRequired);
    }

    [Fact]
    public async Task Limits_OnSpecSizeTrialsAndMessageSize_AreCleanErrors_AndTheServiceGoesOn()
    {
        await using var server = await TunerServer.StartAsync(o =>
        {
            o.MaxSpecBytes = 4096;
            o.MaxTrialsPerExperiment = 10;
            o.MaxMessageBytes = 64 * 1024;
        });
        var raw = server.Raw();
        var big = SpecWriter.ToJson(ApiEndToEndTests.Branin()) + "\n#" + new string('x', 5000);
        var tooBig = await Assert.ThrowsAsync<RpcException>(async () => await raw.SubmitExperimentAsync(new V1.SubmitExperimentRequest { Spec = big }, cancellationToken: Ct));
        Assert.Equal(StatusCode.InvalidArgument, tooBig.StatusCode);
        Assert.StartsWith("spec:", tooBig.Status.Detail, StringComparison.Ordinal);

        using var client = server.Client();
        var many = await Assert.ThrowsAsync<SpecException>(() => client.SubmitAsync(ApiEndToEndTests.Branin(11), cancellationToken: Ct));
        Assert.Equal("samples", Assert.Single(many.Errors).Path);

        var huge = await Assert.ThrowsAsync<RpcException>(async () => await raw.SubmitExperimentAsync(
            new V1.SubmitExperimentRequest { Spec = SpecWriter.ToJson(ApiEndToEndTests.Branin()), Code = { new V1.CodeFile { Name = "a.dll", Content = Google.Protobuf.ByteString.CopyFrom(new byte[100_000]) } } },
            cancellationToken: Ct));
        Assert.Equal(StatusCode.ResourceExhausted, huge.StatusCode);

        var grid = await client.RunAsync(ApiEndToEndTests.Branin(2), cancellationToken: Ct);
        Assert.Equal(ExperimentStatus.Completed, grid.Status);
    }
}
