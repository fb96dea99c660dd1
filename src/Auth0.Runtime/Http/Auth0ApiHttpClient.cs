namespace Auth0.Minimal.Http;

/// <summary>
/// The base of every generated <c>{Name}ApiHttpClient</c>: <see cref="Client"/> attaches that API's token and sends it
/// to no other origin. Declaring <c>partial class OrdersApiHttpClient : Auth0ApiHttpClient;</c> in the app lets ASP.NET's
/// request delegate generator see <see cref="Client"/> in minimal API handlers under Native AOT.
/// </summary>
public abstract class Auth0ApiHttpClient
{
    protected Auth0ApiHttpClient(HttpClient client) => Client = client ?? throw new ArgumentNullException(nameof(client));

    public HttpClient Client { get; }
}
