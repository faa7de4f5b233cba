using System.Diagnostics;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// The NuGet package as a user meets it: packed from this build, installed from a local folder into a new project
/// outside the solution, wired with the README's <c>AddKafkaS3Sink</c>, run against the test servers.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Package")]
public sealed class PackageTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "kafkas3sink-package-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task PackedPackage_InAFreshProject_AddKafkaS3Sink_BacksUpEveryRecordOnce()
    {
        var root = S3Server.RepositoryRoot();
        var packages = Directory.CreateDirectory(Path.Combine(folder, "packages")).FullName;
        var app = Directory.CreateDirectory(Path.Combine(folder, "app")).FullName;

        // A version of its own: the NuGet cache can never serve an older build of the same version.
        var version = $"0.1.0-test{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        (await Run("dotnet", root, "pack", Path.Combine(root, "src", "KafkaS3Sink", "KafkaS3Sink.csproj"), "-c", configuration, "--no-build", "-o", packages, $"-p:Version={version}"))
            .Should().Be(0, "the package packs");
        var nupkg = Path.Combine(packages, $"KafkaS3Sink.{version}.nupkg");
        File.Exists(Path.Combine(packages, $"KafkaS3Sink.{version}.snupkg")).Should().BeTrue("symbols ship as a .snupkg");
        using (var zip = System.IO.Compression.ZipFile.OpenRead(nupkg))
        {
            zip.Entries.Select(e => e.FullName).Should().Contain(["README.md", "lib/net10.0/KafkaS3Sink.dll", "lib/net10.0/KafkaS3Sink.xml"], "the package page shows a README, and IntelliSense has the XML docs");
            using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
            var text = await nuspec.ReadToEndAsync();
            text.Should().Contain("<readme>README.md</readme>").And.Contain("<license type=\"expression\">Apache-2.0</license>").And.Contain("<tags>kafka s3")
                .And.Contain("<releaseNotes>### ", "the release notes are the CHANGELOG's section (Unreleased until a release names its version)");
        }

        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{packages}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "App.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="KafkaS3Sink" Version="{version}" />
                <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
              </ItemGroup>
            </Project>
            """);

        // The README's quick start, with the test servers' endpoints from the environment.
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            using KafkaS3Sink;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;

            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddKafkaS3Sink(sink => sink
                .Configure(o =>
                {
                    o.BootstrapServers = Environment.GetEnvironmentVariable("APP_KAFKA")!;
                    o.GroupId = Environment.GetEnvironmentVariable("APP_GROUP")!;
                    o.Topics.Add(Environment.GetEnvironmentVariable("APP_TOPIC")!);
                    o.FlushSize = 100;
                    o.Format = OutputFormat.JsonLines;
                    o.KafkaProperties["session.timeout.ms"] = "6000";
                    o.S3.BucketName = Environment.GetEnvironmentVariable("APP_BUCKET")!;
                    o.S3.ServiceUrl = new Uri(Environment.GetEnvironmentVariable("APP_S3")!);
                    o.S3.ForcePathStyle = true;
                    o.S3.AccessKeyId = Environment.GetEnvironmentVariable("APP_S3_KEY");
                    o.S3.SecretAccessKey = Environment.GetEnvironmentVariable("APP_S3_SECRET");
                }));
            using var host = builder.Build();
            await host.StartAsync();
            Console.WriteLine("STARTED");
            await Console.In.ReadLineAsync();
            await host.StopAsync();
            Console.WriteLine("STOPPED");
            """);

        var topic = "pkg-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("pkg");
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 1000).Select(i => (i % 2, (string?)null, $"{{\"id\":{i}}}")));

        (await Run("dotnet", app, "build", "-c", "Release", "--nologo", "-v", "q")).Should().Be(0, "the fresh project restores the package and builds");
        var psi = new ProcessStartInfo("dotnet", ["bin/Release/net10.0/App.dll"])
        {
            WorkingDirectory = app,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["APP_KAFKA"] = servers.Kafka.BootstrapServers,
                ["APP_GROUP"] = topic,
                ["APP_TOPIC"] = topic,
                ["APP_BUCKET"] = bucket,
                ["APP_S3"] = servers.S3.Endpoint.ToString(),
                ["APP_S3_KEY"] = servers.S3.AccessKey,
                ["APP_S3_SECRET"] = servers.S3.SecretKey,
            },
        };
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Log("[app] " + e.Data);
        process.ErrorDataReceived += (_, e) => Log("[app err] " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500], TimeSpan.FromMinutes(2));
            await process.StandardInput.WriteLineAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            process.ExitCode.Should().Be(0);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems();
        ids.Order().Should().Equal(Enumerable.Range(0, 1000));
    }

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private void Log(string? line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // The test is over.
        }
    }

    private async Task<int> Run(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Log($"$ {file} {string.Join(' ', args)} -> {process.ExitCode}\n{await stdout}\n{await stderr}");
        return process.ExitCode;
    }
}
