using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Keeps every log line (to check that no secret is logged) and forwards it to the test output.</summary>
public sealed class CapturingLoggerProvider(ConcurrentQueue<string> lines, ITestOutputHelper output) : ILoggerProvider
{
    private readonly XunitLoggerProvider inner = new(output);

    public ILogger CreateLogger(string categoryName) => new Logger(lines, inner.CreateLogger(categoryName));

    public void Dispose() => inner.Dispose();

    private sealed class Logger(ConcurrentQueue<string> lines, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lines.Enqueue(formatter(state, exception) + exception);
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
