namespace KafkaS3Sink.Hosting;

internal sealed class KafkaS3SinkController : IKafkaS3SinkController
{
    private readonly KafkaS3SinkRegistry registry;

    public KafkaS3SinkController(KafkaS3SinkRegistry registry)
    {
        this.registry = registry;
        registry.ControllerInUse = true;
    }

    public IReadOnlyList<string> SinkNames => registry.Names;

    public KafkaS3SinkStatus GetStatus(string name) => registry.Get(name).Sink!.GetStatus();

    public void Pause(string name) => registry.Get(name).Sink!.Pause();

    public void Resume(string name) => registry.Get(name).Sink!.Resume();

    public Task RestartAsync(string name, CancellationToken cancellationToken = default) => registry.Get(name).RestartAsync(cancellationToken);
}
