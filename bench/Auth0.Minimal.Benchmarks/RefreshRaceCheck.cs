using Auth0.Minimal.Benchmarks.Support;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// Not a benchmark: bursts whose callers are still starting while the first refresh completes (the endpoint answers
/// at once), counting bursts in which the token endpoint saw more than one refresh. Exit code 1 when any did.
/// </summary>
internal static class RefreshRaceCheck
{
    public static async Task<int> RunAsync(int bursts)
    {
        using var host = BenchHost.Create();
        host.Idp.ReceivedRefreshTokens = new();
        var extra = 0;
        string? example = null;
        for (var b = 0; b < bursts; b++)
        {
            var refreshToken = "rt-" + Guid.NewGuid().ToString("N");
            var cookie = host.CookieHeader(host.NewSession(refreshToken, accessTokenExpired: true));
            var contexts = new HttpContext[SingleFlightRefreshBenchmarks.Callers];
            for (var i = 0; i < contexts.Length; i++)
            {
                contexts[i] = host.NewContext(cookie);
                _ = Auth0RequestState.For(contexts[i]).Session;
            }
            host.Idp.ReceivedRefreshTokens.Clear();
            var tasks = contexts.Select(c => host.Tokens.GetAccessTokenAsync(c)).ToArray();
            await Task.WhenAll(tasks);
            if (host.Idp.ReceivedRefreshTokens.Count <= 1) continue;

            extra++;
            if (example is not null) continue;
            var sent = string.Join(", ", host.Idp.ReceivedRefreshTokens.Select(t => t == refreshToken ? "the session's token" : t));
            var kept = contexts.Select(c => Auth0RequestState.For(c).Session!.TokenSet.RefreshToken)
                .GroupBy(t => t).Select(g => $"{g.Key} x{g.Count()}");
            example = $"burst {b}: refresh_token sent: {sent}; refresh tokens the {contexts.Length} responses would set: {string.Join(", ", kept)}";
        }
        Console.WriteLine($"{extra} of {bursts} bursts of {SingleFlightRefreshBenchmarks.Callers} callers made more than one refresh call.");
        if (example is not null) Console.WriteLine(example);
        return extra == 0 ? 0 : 1;
    }
}
