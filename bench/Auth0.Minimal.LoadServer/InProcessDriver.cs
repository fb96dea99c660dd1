using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Auth0.Minimal.LoadServer;

/// <summary>
/// A server without sockets: it captures the app's request pipeline (hosting, middleware, endpoint) so that
/// <c>--inproc</c> can time requests through exactly what Kestrel would call, minus the network and HTTP parsing.
/// Steadier than a loopback run on a shared machine, and it also gives bytes allocated per request.
/// </summary>
internal sealed class InProcessServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Func<string, string, string?, Task<(int Status, string[] SetCookies)>>? Send { get; private set; }

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken) where TContext : notnull
    {
        Send = async (method, path, cookie) =>
        {
            // Sized as Kestrel's own collections are, so that growing them is not what gets measured.
            var features = new FeatureCollection(8);
            var request = new HttpRequestFeature { Method = method, Path = path, Protocol = "HTTP/1.1", Scheme = "http" };
            request.Headers.Host = "127.0.0.1";
            if (cookie is not null) request.Headers.Cookie = cookie;
            var response = new ResponseFeature();
            features.Set<IHttpRequestFeature>(request);
            features.Set<IHttpResponseFeature>(response);
            features.Set<IHttpResponseBodyFeature>(response);
            var context = application.CreateContext(features);
            Exception? failure = null;
            try
            {
                await application.ProcessRequestAsync(context);
                await response.StartAsync();
            }
            catch (Exception ex)
            {
                failure = ex;
                throw;
            }
            finally
            {
                application.DisposeContext(context, failure);
            }
            return (response.StatusCode, response.Headers.SetCookie.Select(v => v ?? "").ToArray());
        };
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() { }

    // Runs the OnStarting callbacks when the body starts, as Kestrel does, and discards the body.
    private sealed class ResponseFeature : HttpResponseFeature, IHttpResponseBodyFeature
    {
        private readonly List<(Func<object, Task> Callback, object State)> _onStarting = [];
        private readonly PipeWriter _writer = PipeWriter.Create(Stream.Null);
        private bool _started;

        public ResponseFeature()
        {
            Body = Stream.Null;
            Headers = new HeaderDictionary(8);
        }

        public override bool HasStarted => _started;
        public override void OnStarting(Func<object, Task> callback, object state) => _onStarting.Add((callback, state));
        public override void OnCompleted(Func<object, Task> callback, object state) { }

        public Stream Stream => Body;
        public PipeWriter Writer
        {
            get
            {
                // Callers get the writer only to write the body: the response starts here.
                if (!_started) StartAsync().GetAwaiter().GetResult();
                return _writer;
            }
        }

        public void DisableBuffering() { }

        public async Task StartAsync(CancellationToken cancellationToken = default)
        {
            if (_started) return;
            _started = true;
            for (var i = _onStarting.Count - 1; i >= 0; i--) await _onStarting[i].Callback(_onStarting[i].State);
        }

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) => Task.CompletedTask;
        public Task CompleteAsync() => StartAsync();
    }
}

internal static class InProcessRun
{
    /// <summary>Times <paramref name="requests"/> sequential requests, five rounds, and prints the best round.</summary>
    public static async Task<int> RunAsync(InProcessServer server, string? cookie, int requests)
    {
        var send = server.Send ?? throw new InvalidOperationException("the server did not start");
        var (status, setCookies) = await send("GET", "/api/data", cookie);
        Console.WriteLine($"first response: {status}, {setCookies.Length} Set-Cookie");
        if (status != 200) return 1;
        for (var i = 0; i < Math.Min(requests, 20_000); i++) await send("GET", "/api/data", cookie); // tier-up
        double best = double.MaxValue;
        long bestBytes = 0;
        for (var round = 0; round < 5; round++)
        {
            var bytes = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < requests; i++) await send("GET", "/api/data", cookie);
            var ns = clock.Elapsed.TotalNanoseconds / requests;
            var allocated = (GC.GetTotalAllocatedBytes(precise: true) - bytes) / requests;
            Console.WriteLine($"round {round + 1}: {ns / 1000:F2} us/request, {allocated} B/request");
            if (ns < best) (best, bestBytes) = (ns, allocated);
        }
        var (lastStatus, lastSetCookies) = await send("GET", "/api/data", cookie);
        Console.WriteLine($"best: {best / 1000:F2} us/request, {bestBytes} B/request; last response {lastStatus}, {lastSetCookies.Length} Set-Cookie");
        return 0;
    }
}
