using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace KafkaS3Sink.Worker;

/// <summary>
/// The API's credentials: HTTP basic (<c>KafkaS3Sink:Api:Username</c>/<c>Password</c>, like Kafka Connect's
/// <c>BasicAuthSecurityRestExtension</c>) and/or an API key (<c>KafkaS3Sink:Api:Key</c>, sent as <c>X-Api-Key</c>).
/// </summary>
public sealed class WorkerCredentials
{
    /// <summary>The authentication scheme's name.</summary>
    public const string Scheme = "KafkaS3SinkApi";

    private readonly byte[]? basic;
    private readonly byte[]? key;

    private WorkerCredentials(string? username, string? password, string? apiKey)
    {
        basic = username is null || password is null ? null : Encoding.UTF8.GetBytes(username + ":" + password);
        key = string.IsNullOrEmpty(apiKey) ? null : Encoding.UTF8.GetBytes(apiKey);
    }

    /// <summary>Whether any credential is configured (then every API route needs one).</summary>
    public bool Any => basic is not null || key is not null;

    /// <summary>Reads the credentials from configuration.</summary>
    /// <param name="configuration">The worker's configuration.</param>
    /// <returns>The credentials; none when nothing is set.</returns>
    /// <exception cref="WorkerStartupException">Only one of user name and password is set.</exception>
    public static WorkerCredentials From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var username = Blank(configuration["KafkaS3Sink:Api:Username"]);
        var password = Blank(configuration["KafkaS3Sink:Api:Password"]);
        if ((username is null) != (password is null))
        {
            throw new WorkerStartupException("KafkaS3Sink:Api:Username and KafkaS3Sink:Api:Password go together: set both, or neither.");
        }

        return new WorkerCredentials(username, password, Blank(configuration["KafkaS3Sink:Api:Key"]));
    }

    /// <summary>Whether a request carries a configured credential (compared in constant time).</summary>
    /// <param name="request">The request.</param>
    /// <returns>The name it authenticates as, or null.</returns>
    internal string? Authenticate(HttpRequest request)
    {
        if (key is not null && request.Headers.TryGetValue("X-Api-Key", out var given) && Same(key, Encoding.UTF8.GetBytes(given.ToString())))
        {
            return "api-key";
        }

        var header = request.Headers.Authorization.ToString();
        if (basic is not null && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Convert.FromBase64String(header["Basic ".Length..].Trim());
                if (Same(basic, decoded))
                {
                    return Encoding.UTF8.GetString(decoded).Split(':', 2)[0];
                }
            }
            catch (FormatException)
            {
                return null;
            }
        }

        return null;
    }

    private static bool Same(byte[] expected, byte[] given) => CryptographicOperations.FixedTimeEquals(expected, given);

    private static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>Authenticates API requests with <see cref="WorkerCredentials"/>; a missing or wrong one gets 401 with a basic challenge.</summary>
internal sealed class WorkerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, WorkerCredentials credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var name = credentials.Authenticate(Request);
        if (name is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], WorkerCredentials.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), WorkerCredentials.Scheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"KafkaS3Sink\"";
        await Response.WriteAsJsonAsync(new { error_code = 401, message = "Authentication required: HTTP basic (KafkaS3Sink:Api:Username/Password) or the X-Api-Key header." }).ConfigureAwait(false);
    }
}
