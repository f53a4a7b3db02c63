using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Tuner.Scheduler.Api;

/// <summary>What a caller may do: everything, or only experiments of registered trainables.</summary>
public enum ApiRole
{
    User,
    Admin,
}

/// <summary>
/// Checks the bearer token of every call when keys are required (UNAUTHENTICATED without a valid
/// one) and records the caller's role for the service's PERMISSION_DENIED checks. Health checks are
/// open; keys are compared in constant time and never logged.
/// </summary>
public sealed class ApiKeyInterceptor(TunerApiOptions options) : Interceptor
{
    private const string RoleKey = "tuner.role";

    private readonly (byte[] Hash, ApiRole Role)[] _keys = [.. options.ApiKeys
        .Where(k => !string.IsNullOrEmpty(k.Key))
        .Select(k => (SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)), k.Role == "admin" ? ApiRole.Admin : ApiRole.User))];

    /// <summary>The caller's role, as the interceptor found it.</summary>
    public static ApiRole RoleOf(ServerCallContext context) =>
        context.UserState.TryGetValue(RoleKey, out var role) && role is ApiRole r ? r : ApiRole.User;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authenticate(ServerCallContext context)
    {
        if (context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
        {
            return;
        }

        if (!options.KeysRequired)
        {
            // Loopback only: whoever can reach the port is on this machine.
            context.UserState[RoleKey] = ApiRole.Admin;
            return;
        }

        var header = context.RequestHeaders.GetValue("authorization");
        const string scheme = "Bearer ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "an API key is required: send the header 'authorization: Bearer <key>'"));
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        foreach (var (known, role) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, known))
            {
                context.UserState[RoleKey] = role;
                return;
            }
        }

        throw new RpcException(new Status(StatusCode.Unauthenticated, "the API key is not valid"));
    }
}
