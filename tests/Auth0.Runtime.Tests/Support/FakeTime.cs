namespace Auth0.Minimal.Tests.Support;

/// <summary>A clock the test moves by hand; it starts at the real time so the real provider's tokens validate.</summary>
public sealed class FakeTime : TimeProvider
{
    private DateTimeOffset _now = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
