using Auth0.Minimal;
using PackagedApp;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddAuth0Generated(builder.Configuration);
builder.Services.AddOpenApi(options => options.AddAuth0());
var app = builder.Build();
app.MapAuth0Generated();
app.MapOpenApi();
app.MapGet("/api/orders-token", async (IOrdersApiTokenClient orders, CancellationToken ct) =>
        Results.Text((await orders.GetAccessTokenAsync(ct)).Token))
   .RequireAuth0Session();
app.Run();
