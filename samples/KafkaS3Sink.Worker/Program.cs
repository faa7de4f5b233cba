using KafkaS3Sink.Worker;

var app = WorkerApp.Build(args);
await app.StartAsync();
await WorkerApp.LoadConfigDirectoryAsync(app);
await app.WaitForShutdownAsync();
