using System.Diagnostics;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Commands the fault tests run as root (mount, umount): a failure fails the test, naming the command.</summary>
public static class Root
{
    public static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (these tests run as root): {process.StandardError.ReadToEnd()}");
        }
    }
}
