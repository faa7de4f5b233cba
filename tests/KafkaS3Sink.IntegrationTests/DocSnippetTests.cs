using System.Text;
using System.Text.RegularExpressions;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Every C# snippet in the README, <c>docs/</c> and the packages' READMEs compiles against this build (a program
/// per file and kind of snippet, with the variables the prose assumes: <c>builder</c>, <c>app</c>,
/// <c>services</c>, <c>config</c>). A snippet that starts with <c>.</c> continues a sink builder.
/// </summary>
[Trait("Category", "Docs")]
public sealed partial class DocSnippetTests
{
    public static TheoryData<string> Files()
    {
        var root = S3Server.RepositoryRoot();
        var data = new TheoryData<string>();
        foreach (var file in new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "src"), "README.md", SearchOption.AllDirectories))
            .Concat(Directory.EnumerateFiles(Path.Combine(root, "samples"), "README.md", SearchOption.AllDirectories))
            .Where(f => !f.Contains("/bin/", StringComparison.Ordinal) && !f.Contains("/obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(root, file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EverySnippet_Compiles(string file)
    {
        var text = File.ReadAllText(Path.Combine(S3Server.RepositoryRoot(), file));
        var snippets = Snippet().Matches(text).Select(m => m.Groups[1].Value).ToList();
        var problems = new List<string>();
        foreach (var group in snippets.GroupBy(Kind))
        {
            var parts = group.Key == "continuation" ? group.Select(s => "_ = builder" + s.TrimEnd() + ";").ToList() : group.ToList();
            var source = Program(group.Key, string.Join('\n', parts));
            var diagnostics = Compile(source);
            if (diagnostics.Count > 0)
            {
                problems.Add($"{file} ({group.Key} snippets):\n{string.Join('\n', diagnostics)}\n--- compiled as:\n{source}");
            }
        }

        problems.Should().BeEmpty();
    }

    /// <summary>What <c>builder</c> is: the host's (<c>builder.Services</c>, <c>app</c>), a sink builder, or a continuation of one.</summary>
    private static string Kind(string snippet)
        => snippet.TrimStart().StartsWith('.') ? "continuation"
            : snippet.Contains("builder.Services", StringComparison.Ordinal) || snippet.Contains("app.", StringComparison.Ordinal) ? "web"
            : "sink";

    /// <summary>
    /// A program with top-level statements: the snippets' using directives first, then the variables the prose
    /// assumes, the statements, and last the snippets' type declarations (C# wants them after the statements).
    /// </summary>
    private static string Program(string kind, string code)
    {
        // A web project's implicit usings; the product's namespaces only for fragments that show none of their own
        // (a snippet that shows `using KafkaS3Sink…` lines must show every one it needs: the README's once lacked one).
        var usings = new List<string>
        {
            "using System;", "using System.Collections.Generic;", "using System.IO;", "using System.Linq;", "using System.Threading;",
            "using System.Threading.Tasks;", "using Microsoft.AspNetCore.Builder;", "using Microsoft.Extensions.DependencyInjection;",
            "using Microsoft.Extensions.Hosting;",
        };
        if (!code.Contains("using KafkaS3Sink", StringComparison.Ordinal))
        {
            usings.AddRange(["using System.Text.Json;", "using KafkaS3Sink;", "using KafkaS3Sink.Configuration;", "using KafkaS3Sink.Partitioning;", "using KafkaS3Sink.Testing;", "using KafkaS3Sink.SchemaRegistry;"]);
        }

        var statements = new StringBuilder();
        var types = new StringBuilder();
        var inType = false;
        foreach (var line in code.Split('\n'))
        {
            if (!inType && line.StartsWith("using ", StringComparison.Ordinal) && !line.StartsWith("using var", StringComparison.Ordinal) && !line.Contains('(', StringComparison.Ordinal))
            {
                usings.Add(line.Trim());
                continue;
            }

            if (!inType && TypeStart().IsMatch(line))
            {
                inType = true;
            }

            (inType ? types : statements).Append(line).Append('\n');
            if (inType && line == "}")
            {
                inType = false;
            }
        }

        // A whole program declares its own builder; fragments get the one the prose means.
        var prelude = code.Contains("var builder ", StringComparison.Ordinal) ? string.Empty
            : kind == "web" ? "var builder = WebApplication.CreateBuilder();\n" + (code.Contains("var app ", StringComparison.Ordinal) ? string.Empty : "WebApplication app = null!;\n")
            : "var builder = new KafkaS3SinkBuilder();\nIServiceCollection services = new ServiceCollection();\nvar stoppingToken = CancellationToken.None;\n";
        prelude += code.Contains("var config ", StringComparison.Ordinal) ? string.Empty : "IReadOnlyDictionary<string, string> config = new Dictionary<string, string>();\n";
        return string.Join('\n', usings.Distinct()) + "\n" + prelude + statements + types;
    }

    private static List<string> Compile(string source)
    {
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest));
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location.Length > 0).Select(a => a.Location))
            .Concat(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll"))
            .Where(File.Exists)
            .GroupBy(Path.GetFileName, StringComparer.OrdinalIgnoreCase)
            .Select(g => MetadataReference.CreateFromFile(g.First()));
        var compilation = CSharpCompilation.Create(
            "snippets",
            [tree],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
        return [.. compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString())];
    }

    [GeneratedRegex(@"^(public |internal )?(sealed |static |abstract )*(class|record|struct|interface) ")]
    private static partial Regex TypeStart();

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
