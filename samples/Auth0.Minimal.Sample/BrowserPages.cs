using System.Net;
using Auth0.Minimal;

namespace Auth0.Minimal.Sample;

/// <summary>
/// A page that works the way a single-page app would: it asks <c>/auth/profile</c> who is signed in, calls the Orders
/// API through <c>/api/orders</c> and reads a token from <c>/auth/access-token</c>, all from script.
/// </summary>
internal static class BrowserPages
{
    public static void MapBrowserPages(this WebApplication app)
    {
        app.MapGet("/app", () => Results.Content(AppPage, "text/html; charset=utf-8"));

        // A deep link behind login: signed out, the browser goes to login and comes back to exactly this URL.
        app.MapGet("/account/{section}", (string section, HttpContext context) =>
        {
            var user = context.GetAuth0Session()!.User;
            var view = context.Request.Query["view"].ToString();
            return Results.Content(
                $"<!doctype html><html><head><meta charset=\"utf-8\"><title>Account</title></head><body><h1 id=\"section\">{WebUtility.HtmlEncode(section)}</h1>"
                + $"<p id=\"view\">{WebUtility.HtmlEncode(view)}</p><p id=\"user-name\">{WebUtility.HtmlEncode(user.Name ?? user.Sub)}</p></body></html>",
                "text/html; charset=utf-8");
        }).RequireAuth0Login();
    }

    private const string AppPage = """
        <!doctype html>
        <html>
        <head><meta charset="utf-8"><title>Auth0.Minimal sample app</title></head>
        <body>
          <h1>Auth0.Minimal sample app</h1>
          <p id="status">Loading…</p>
          <p id="signed-out" hidden><a id="login" href="/auth/login?returnTo=%2Fapp">Log in</a></p>
          <div id="signed-in" hidden>
            <p>Signed in as <strong id="user-name"></strong> (<span id="user-email"></span>)</p>
            <p><button id="load-orders">Load my orders</button> <button id="get-token">Get an access token</button></p>
            <ul id="orders"></ul>
            <p id="token"></p>
            <p><a id="logout" href="/auth/logout?returnTo=%2Fapp">Log out</a></p>
          </div>
          <script>
            const $ = (id) => document.getElementById(id);
            async function loadUser() {
              const response = await fetch('/auth/profile', { credentials: 'same-origin' });
              if (response.status === 401 || response.status === 204) {
                $('status').textContent = 'Signed out';
                $('signed-out').hidden = false;
                return;
              }
              if (!response.ok) { $('status').textContent = 'Error ' + response.status; return; }
              const user = await response.json();
              $('status').textContent = 'Signed in';
              $('user-name').textContent = user.name ?? user.sub;
              $('user-email').textContent = user.email ?? '';
              $('signed-in').hidden = false;
            }
            $('load-orders').addEventListener('click', async () => {
              const response = await fetch('/api/orders', { credentials: 'same-origin' });
              const list = $('orders');
              list.replaceChildren();
              if (!response.ok) { list.textContent = 'Orders failed: ' + response.status; return; }
              for (const order of (await response.json()).orders) {
                const item = document.createElement('li');
                item.className = 'order';
                item.textContent = order.quantity + ' × ' + order.item;
                list.append(item);
              }
            });
            $('get-token').addEventListener('click', async () => {
              const response = await fetch('/auth/access-token', { credentials: 'same-origin' });
              const body = await response.json();
              $('token').textContent = response.ok
                ? 'Token of ' + body.token.length + ' characters, expires in ' + body.expires_in + ' s'
                : 'Token failed: ' + body.error.code;
            });
            loadUser();
          </script>
        </body>
        </html>
        """;
}
