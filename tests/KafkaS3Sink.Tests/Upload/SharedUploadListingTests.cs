using Amazon.S3.Model;
using FluentAssertions;
using KafkaS3Sink.Upload;
using Xunit;

namespace KafkaS3Sink.Tests.Upload;

public sealed class SharedUploadListingTests
{
    /// <summary>Listings the fake store was asked for, each answered when the test says.</summary>
    private readonly List<(string Prefix, TaskCompletionSource<List<MultipartUpload>> Answer)> sent = [];

    private SharedUploadListing Listing() => new(
        (prefix, _) =>
        {
            var answer = new TaskCompletionSource<List<MultipartUpload>>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (sent)
            {
                sent.Add((prefix, answer));
            }

            return answer.Task;
        },
        CancellationToken.None);

    private static List<MultipartUpload> Uploads(params string[] keys) => keys.Select(k => new MultipartUpload { Key = k, UploadId = "u-" + k }).ToList();

    [Fact]
    public async Task CallersDuringARunningListing_ShareTheNextOne_NeverTheOneThatStartedBeforeThem()
    {
        var listing = Listing();
        var first = listing.ListAsync("topics/t/", CancellationToken.None);
        var second = listing.ListAsync("topics/t/", CancellationToken.None);
        var third = listing.ListAsync("topics/t/", CancellationToken.None);
        sent.Should().HaveCount(1, "the next listing waits for the running one");

        sent[0].Answer.SetResult(Uploads("old"));
        (await first).Select(u => u.Key).Should().Equal("old");
        await WaitUntil(() => sent.Count == 2);
        second.IsCompleted.Should().BeFalse("the first listing may have started before the second caller asked");
        sent[1].Answer.SetResult(Uploads("old", "new"));

        (await second).Select(u => u.Key).Should().Equal("old", "new");
        (await third).Select(u => u.Key).Should().Equal("old", "new");
        listing.Started.Should().Be(2);
    }

    [Fact]
    public async Task AFinishedListing_IsNotReused_AndPrefixesAreListedApart()
    {
        var listing = Listing();
        var a = listing.ListAsync("topics/a/", CancellationToken.None);
        var b = listing.ListAsync("topics/b/", CancellationToken.None);
        sent.Select(s => s.Prefix).Should().Equal("topics/a/", "topics/b/");
        sent[0].Answer.SetResult(Uploads("a1"));
        sent[1].Answer.SetResult(Uploads("b1"));
        (await a).Select(u => u.Key).Should().Equal("a1");
        (await b).Select(u => u.Key).Should().Equal("b1");

        var again = listing.ListAsync("topics/a/", CancellationToken.None);
        sent.Should().HaveCount(3, "a caller after a listing finished gets a new one");
        sent[2].Answer.SetResult(Uploads("a2"));
        (await again).Select(u => u.Key).Should().Equal("a2");
    }

    [Fact]
    public async Task AFailedListing_FailsItsCallers_AndTheNextCallerListsAgain()
    {
        var listing = Listing();
        var first = listing.ListAsync("topics/t/", CancellationToken.None);
        var waiting = listing.ListAsync("topics/t/", CancellationToken.None);
        sent[0].Answer.SetException(new InvalidOperationException("store down"));

        await FluentActions.Awaiting(() => first).Should().ThrowAsync<InvalidOperationException>().WithMessage("store down");
        await WaitUntil(() => sent.Count == 2);
        sent[1].Answer.SetResult(Uploads("x"));
        (await waiting).Select(u => u.Key).Should().Equal("x");
    }

    [Fact]
    public async Task ACallerThatStopsWaiting_LeavesTheSharedListingToTheOthers()
    {
        var listing = Listing();
        var first = listing.ListAsync("topics/t/", CancellationToken.None);
        using var revoked = new CancellationTokenSource();
        var second = listing.ListAsync("topics/t/", revoked.Token);
        var third = listing.ListAsync("topics/t/", CancellationToken.None);
        revoked.Cancel();

        await FluentActions.Awaiting(() => second).Should().ThrowAsync<OperationCanceledException>();
        sent[0].Answer.SetResult(Uploads());
        await first;
        await WaitUntil(() => sent.Count == 2);
        sent[1].Answer.SetResult(Uploads("k"));
        (await third).Select(u => u.Key).Should().Equal("k");
    }

    private async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !Locked(condition); i++)
        {
            await Task.Delay(10);
        }

        Locked(condition).Should().BeTrue();
    }

    private bool Locked(Func<bool> condition)
    {
        lock (sent)
        {
            return condition();
        }
    }
}
