using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Auth0.Minimal.Sample;

namespace Auth0.Minimal.Tests.Support;

/// <summary>Decrypts cookies with the real @auth0/nextjs-auth0 package (tests/interop/decrypt.mjs).</summary>
internal static class NextjsInterop
{
    public static async Task<JsonNode?> DecryptAsync(string secret, IReadOnlyDictionary<string, string> cookies, string cookieName = "__session")
    {
        await LocalIdentityProvider.EnsureNpmPackagesAsync(RepoPaths.Interop, "@auth0", null, CancellationToken.None);
        var input = new JsonObject
        {
            ["secret"] = secret,
            ["cookieName"] = cookieName,
            ["cookies"] = new JsonObject(cookies.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        };
        var start = new ProcessStartInfo("node", "decrypt.mjs")
        {
            WorkingDirectory = RepoPaths.Interop,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input.ToJsonString());
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"decrypt.mjs failed: {error}");
        return JsonNode.Parse(output)!["payload"];
    }
}
