using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>The ways <see cref="S3FaultProxy"/> fails a request.</summary>
public enum S3Fault
{
    /// <summary>503 with S3's SlowDown XML body.</summary>
    SlowDown,

    /// <summary>500 with S3's InternalError XML body.</summary>
    InternalError,

    /// <summary>The connection is reset before any response.</summary>
    ResetBeforeResponse,

    /// <summary>Half the request body is read, then the connection is reset.</summary>
    ResetMidRequestBody,

    /// <summary>The request reaches S3; the response is cut after its headers and part of its body.</summary>
    ResetMidResponseBody,

    /// <summary>The request waits (<see cref="S3FaultProxy.StallFor"/>), then is forwarded.</summary>
    Stall,

    /// <summary>
    /// A request with a body reaches S3 with one byte of it flipped (a request without one is forwarded as it is): what
    /// a faulty NIC or middlebox does. The store must refuse it; a sink that stored it would keep a damaged object.
    /// </summary>
    CorruptRequestBody,
}

/// <summary>
/// A real HTTP reverse proxy on loopback between a sink and the S3 server (Kestrel in, HttpClient out), that
/// fails a share of requests the ways S3 and networks do, or refuses connections (its port closed) — switchable
/// while a test runs. Host headers are forwarded unchanged, so SigV4 signatures stay valid.
/// </summary>
public sealed partial class S3FaultProxy : IAsyncDisposable
{
    /// <summary>Faults are dealt from bags of this many requests (see <see cref="FaultRate"/>).</summary>
    public const int BagSize = 10;

    private static readonly S3Fault[] AllFaults = Enum.GetValues<S3Fault>();
    private readonly Uri upstream;
    private readonly HttpClient client;
    private readonly ConcurrentDictionary<string, int> counts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> payloadSigning = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim gate = new(1, 1);
    private WebApplication? app;
    private readonly TaskCompletionSource release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object bagLock = new();
    private readonly bool[] bag = new bool[BagSize];
    private int bagNext = BagSize;
    private double bagRate = -1;
    private double faultRate;
    private long requests;
    private long armedRequests;
    private int holding;

    private S3FaultProxy(Uri upstream, int port)
    {
        this.upstream = upstream;
        Port = port;
        client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public int Port { get; }

    /// <summary>The endpoint the sink is given instead of the S3 server's.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>
    /// Share of requests to fail (0 to 1). Dealt from shuffled bags of <see cref="BagSize"/> requests with
    /// round(rate × BagSize) faults each, so which requests fail is random but the share is exact: after n armed
    /// requests at least round(rate × BagSize) × ⌊n / BagSize⌋ were failed. (A coin per request made the share a
    /// binomial draw: at the 120–160 requests of a short test, 30 % came out at 20 % or less once in 110–350 runs.)
    /// </summary>
    public double FaultRate
    {
        get => Volatile.Read(ref faultRate);
        set => Volatile.Write(ref faultRate, value);
    }

    /// <summary>Which faults are drawn from when a request is failed. Default all.</summary>
    public IReadOnlyList<S3Fault> Faults { get; set; } = AllFaults;

    /// <summary>How long a stalled request waits before it is forwarded. Default 2 s.</summary>
    public TimeSpan StallFor { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Requests matching this wait (before any fault is drawn) until <see cref="ReleaseHeld"/>, then are forwarded;
    /// null holds nothing.
    /// </summary>
    public Func<HttpRequest, bool>? HoldWhere { get; set; }

    /// <summary>Requests waiting in <see cref="HoldWhere"/> now.</summary>
    public int Holding => Volatile.Read(ref holding);

    /// <summary>Forwards every held request and stops holding.</summary>
    public void ReleaseHeld()
    {
        HoldWhere = null;
        release.TrySetResult();
    }

    /// <summary>Requests seen (forwarded or failed).</summary>
    public long Requests => Interlocked.Read(ref requests);

    /// <summary>Requests that arrived while <see cref="FaultRate"/> was above 0 (each dealt a slot of a bag).</summary>
    public long ArmedRequests => Interlocked.Read(ref armedRequests);

    /// <summary>How many requests were failed, by fault, and by <c>fault METHOD</c> with the S3 operation's query (e.g. <c>uploadId</c>).</summary>
    public IReadOnlyDictionary<string, int> Counts => counts;

    /// <summary>
    /// How the PUTs with a body were signed, by their <c>x-amz-content-sha256</c>: <c>sha256</c> (the body's digest:
    /// one request with a Content-Length, the store checks the body against it), <c>streaming</c> (aws-chunked, a
    /// signature per chunk) or <c>unsigned</c>.
    /// </summary>
    public IReadOnlyDictionary<string, int> PayloadSigning => payloadSigning;

    /// <summary>Whether the proxy is accepting connections.</summary>
    public bool Listening => app is not null;

    public static async Task<S3FaultProxy> StartAsync(Uri upstream)
    {
        var proxy = new S3FaultProxy(upstream, FreePort());
        await proxy.ListenAsync();
        return proxy;
    }

    /// <summary>Opens the port again after <see cref="RefuseAsync"/>.</summary>
    public async Task ListenAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (app is not null)
            {
                return;
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Loopback, Port);
                k.Limits.MaxRequestBodySize = null;
            });
            var web = builder.Build();
            web.Run(HandleAsync);
            await web.StartAsync();
            app = web;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Closes the port: connections are refused (and open ones dropped) until <see cref="ListenAsync"/>.</summary>
    public async Task RefuseAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (app is null)
            {
                return;
            }

            using (var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
            {
                await app.StopAsync(stop.Token);
            }

            await app.DisposeAsync();
            app = null;
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await RefuseAsync();
        client.Dispose();
        gate.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        if (HttpMethods.IsPut(context.Request.Method) && context.Request.ContentLength is null or > 0)
        {
            var digest = context.Request.Headers["x-amz-content-sha256"].ToString();
            var kind = digest.StartsWith("STREAMING-", StringComparison.Ordinal) ? "streaming"
                : digest.Length == 64 && digest.All(char.IsAsciiHexDigitLower) ? "sha256"
                : "unsigned";
            payloadSigning.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        if (HoldWhere is { } hold && hold(context.Request))
        {
            Interlocked.Increment(ref holding);
            try
            {
                await release.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the client gave up on it
            }
            finally
            {
                Interlocked.Decrement(ref holding);
            }
        }

        if (StoreClockOffset is { } offset && await RefusedAsSkewedAsync(context, DateTime.UtcNow + offset))
        {
            return;
        }

        S3Fault? fault = DealFault() ? Faults[Random.Shared.Next(Faults.Count)] : null;
        if (fault is { } f)
        {
            counts.AddOrUpdate(f.ToString(), 1, (_, n) => n + 1);
            var operation = context.Request.Query.ContainsKey("uploadId") ? (context.Request.Query.ContainsKey("partNumber") ? "part" : "complete/abort") : "object";
            counts.AddOrUpdate($"{f} {context.Request.Method} {operation}", 1, (_, n) => n + 1);
        }

        switch (fault)
        {
            case S3Fault.SlowDown:
                await DrainAsync(context);
                await ErrorAsync(context, 503, "SlowDown", "Please reduce your request rate.");
                return;
            case S3Fault.InternalError:
                await DrainAsync(context);
                await ErrorAsync(context, 500, "InternalError", "We encountered an internal error. Please try again.");
                return;
            case S3Fault.ResetBeforeResponse:
                context.Abort();
                return;
            case S3Fault.ResetMidRequestBody:
                await ReadSomeAsync(context, (context.Request.ContentLength ?? 0) / 2);
                context.Abort();
                return;
            case S3Fault.Stall:
                await Task.Delay(StallFor);
                break;
        }

        await ForwardAsync(context, cutResponse: fault == S3Fault.ResetMidResponseBody, corruptBody: fault == S3Fault.CorruptRequestBody);
    }

    private bool DealFault()
    {
        var rate = FaultRate;
        if (rate <= 0)
        {
            return false;
        }

        Interlocked.Increment(ref armedRequests);
        lock (bagLock)
        {
            if (bagNext == BagSize || rate != bagRate)
            {
                var faults = (int)Math.Round(Math.Clamp(rate, 0, 1) * BagSize, MidpointRounding.AwayFromZero);
                for (var i = 0; i < BagSize; i++)
                {
                    bag[i] = i < faults;
                }

                Random.Shared.Shuffle(bag);
                bagNext = 0;
                bagRate = rate;
            }

            return bag[bagNext++];
        }
    }

    private async Task ForwardAsync(HttpContext context, bool cutResponse, bool corruptBody)
    {
        var source = context.Request;
        var target = new Uri(upstream, source.Path.ToUriComponent() + source.QueryString.ToUriComponent());
        using var request = new HttpRequestMessage(new HttpMethod(source.Method), target) { Version = HttpVersion.Version11 };
        if (corruptBody && source.ContentLength is > 0)
        {
            // Read whole (test bodies are a few MB at most), one byte in the middle flipped, the length unchanged.
            var body = new byte[source.ContentLength.Value];
            try
            {
                await source.Body.ReadExactlyAsync(body, context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException or EndOfStreamException)
            {
                context.Abort();
                return;
            }

            body[body.Length / 2] ^= 0x20;
            request.Content = new ByteArrayContent(body);
        }
        else if (source.ContentLength is not null || source.Headers.ContainsKey("Transfer-Encoding") || source.Headers.ContainsKey("Content-Type"))
        {
            request.Content = new StreamContent(source.Body);
        }

        foreach (var (name, values) in source.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Expect", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.Host = source.Host.Value;
        if (source.Headers.ContainsKey("Expect"))
        {
            // Signed by SigV4 when present: send it on (HttpClient manages the 100-continue handshake).
            request.Headers.ExpectContinue = true;
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            context.Abort();
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && !name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            if (StoreClockOffset is { } offset)
            {
                // The store's answers carry its time: the AWS SDK sets its clock for the endpoint from every one.
                context.Response.Headers.Date = (DateTime.UtcNow + offset).ToString("r", CultureInfo.InvariantCulture);
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            if (cutResponse)
            {
                // Send the headers and up to half the body (at least one byte short), then drop the connection.
                var length = response.Content.Headers.ContentLength ?? 0;
                var send = Math.Max(0, Math.Min(length - 1, length / 2));
                var buffer = new byte[Math.Max(1, send)];
                var read = send > 0 ? await body.ReadAtLeastAsync(buffer, (int)send, throwOnEndOfStream: false) : 0;
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, read));
                await context.Response.Body.FlushAsync();
                context.Abort();
                return;
            }

            try
            {
                await body.CopyToAsync(context.Response.Body, context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                context.Abort();
            }
        }
    }

    private static async Task ReadSomeAsync(HttpContext context, long bytes)
    {
        var buffer = new byte[64 * 1024];
        long read = 0;
        try
        {
            while (read < bytes)
            {
                var n = await context.Request.Body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, bytes - read)));
                if (n == 0)
                {
                    return;
                }

                read += n;
            }
        }
        catch (Exception ex) when (ex is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client gave up first.
        }
    }

    private static Task DrainAsync(HttpContext context) => ReadSomeAsync(context, long.MaxValue);

    private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        var feature = context.Features.Get<IHttpResponseBodyFeature>();
        await context.Response.WriteAsync(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-proxy</RequestId></Error>");
        if (feature is not null)
        {
            await feature.CompleteAsync();
        }
    }
}
