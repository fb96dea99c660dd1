using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;
builder.Services.AddAuthentication(options =>
    {
        options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
    })
    .AddCookie()
    .AddOpenIdConnect(options =>
    {
        options.Authority = config["AUTH0_DOMAIN"];
        options.ClientId = config["AUTH0_CLIENT_ID"];
        options.ClientSecret = config["AUTH0_CLIENT_SECRET"];
        options.RequireHttpsMetadata = false;
        options.ResponseType = "code";
        options.SaveTokens = true;
        options.Scope.Add("offline_access");
        options.CallbackPath = "/auth/callback";
    });
builder.Services.AddAuthorization();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapGet("/", () => "plain ASP.NET Core Cookies + OpenIdConnect");
app.MapGet("/auth/login", () => Results.Challenge(new AuthenticationProperties { RedirectUri = "/" }));
app.MapGet("/api/me", (HttpContext context) => context.User.Identity?.Name ?? "").RequireAuthorization();
app.Run();
