using System.Net;
using System.Net.Sockets;

namespace Tuner.Data.Tests;

/// <summary>Serves files over HTTP on 127.0.0.1, counting requests: a stand-in for a data set's public address.</summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private int _requests;

    public LoopbackServer()
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    public int Requests => Volatile.Read(ref _requests);

    public Uri Add(string name, byte[] content)
    {
        lock (_files)
        {
            _files[name] = content;
        }

        return new Uri($"http://127.0.0.1:{Port}/{name}");
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            Interlocked.Increment(ref _requests);
            byte[]? body;
            lock (_files)
            {
                _files.TryGetValue(context.Request.Url!.AbsolutePath.TrimStart('/'), out body);
            }

            context.Response.StatusCode = body is null ? 404 : 200;
            if (body is not null)
            {
                await context.Response.OutputStream.WriteAsync(body);
            }

            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
