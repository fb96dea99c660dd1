using Auth0.Minimal.Protocol;
using Auth0.Minimal.Tests.Support;
using Auth0.Minimal.Tokens;

namespace Auth0.Minimal.Tests.Unit;

public class RefreshCoordinatorTests
{
    [Fact]
    public async Task Callers_that_arrive_while_or_just_after_a_refresh_completes_never_spend_the_successor()
    {
        var doubles = 0;
        for (var burst = 0; burst < 2000; burst++)
        {
            var coordinator = new RefreshCoordinator(TimeProvider.System, TestSessions.Telemetry);
            var calls = 0;
            async Task<TokenEndpointResponse> Refresh(string rt)
            {
                Interlocked.Increment(ref calls);
                await Task.Yield(); // completes on another thread while later callers are still arriving
                return new TokenEndpointResponse { AccessToken = "at-" + rt, RefreshToken = rt + "-next", ExpiresIn = 3600, TokenType = "Bearer" };
            }

            // Callers start one after another, as requests do: some join the refresh in flight, some come right after it.
            var callers = new Task<TokenEndpointResponse>[64];
            for (var i = 0; i < callers.Length; i++)
            {
                callers[i] = coordinator.RefreshAsync("rt-0", null, null, Refresh);
                Thread.SpinWait(200);
            }
            var results = await Task.WhenAll(callers);

            Assert.All(results, r => Assert.Equal("rt-0-next", r.RefreshToken));
            if (calls != 1) doubles++;
        }
        Assert.Equal(0, doubles);
    }
}
