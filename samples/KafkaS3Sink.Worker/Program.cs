using KafkaS3Sink;
using KafkaS3Sink.Worker;

// Exit codes: 0 stopped, 2 a setting or connector config file is wrong (the message says which), 1 anything else.
WebApplication? app = null;
try
{
    app = WorkerApp.Build(args);
    await app.StartAsync();
    WorkerApp.CheckExposure(app);
    await WorkerApp.LoadConfigDirectoryAsync(app);
    await app.WaitForShutdownAsync();
    return 0;
}
catch (WorkerStartupException ex)
{
    await Console.Error.WriteLineAsync("kafkas3sink-worker: " + ex.Message);
    return 2;
}
catch (KafkaS3SinkConfigurationException ex)
{
    await Console.Error.WriteLineAsync("kafkas3sink-worker: " + string.Join(" ", ex.Errors));
    return 2;
}
catch (IOException ex) when (app is not null && !app.Lifetime.ApplicationStarted.IsCancellationRequested)
{
    // E.g. Kestrel's "Failed to bind to address …: address already in use".
    await Console.Error.WriteLineAsync("kafkas3sink-worker: " + ex.Message);
    return 2;
}
finally
{
    if (app is not null)
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
