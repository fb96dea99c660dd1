using System.Reflection;
using System.Text;
using Auth0.Generators.Emitting;

namespace Auth0.Generators.Tests;

/// <summary>
/// The exact code the generator emits for a few representative configs, compared with the files in Snapshots/.
/// After an intended change to the emitted code, run these tests with AUTH0_UPDATE_SNAPSHOTS=1 to rewrite the files,
/// then review the diff (see Snapshots/README.md).
/// </summary>
public class SnapshotTests
{
    private static readonly Dictionary<string, string[]> Configs = new(StringComparer.Ordinal)
    {
        ["Defaults"] = [Sources.DefaultConfig],
        ["CustomRoutes"] =
        [
            Sources.Config(
                """
                LoginPath = "/signin", CallbackPath = "/signin/callback", LogoutPath = "/signout", ProfilePath = "/me",
                ConnectAccountPath = "/link", EnableAccessTokenEndpoint = false, EnableBackchannelLogout = false,
                EnableConnectAccountEndpoint = true
                """),
        ],
        ["TwoApis"] =
        [
            """
            using Auth0.Minimal;

            namespace MyApp;

            /// <summary>Auth0 settings.</summary>
            [Auth0Config(UseDPoP = true)]
            [Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders write:orders",
                      BaseAddress = "https://orders.example.com/", UseDPoP = true)]
            [Auth0Api("Billing", Audience = "https://billing.example.com", BaseAddress = "https://billing.example.com/api/")]
            public partial class Auth0Setup;

            /// <summary>Declared for the request delegate generator.</summary>
            public partial interface IOrdersApiTokenClient : IAuth0ApiTokenClient;

            /// <summary>Declared for the request delegate generator.</summary>
            public partial class OrdersApiHttpClient : Auth0.Minimal.Http.Auth0ApiHttpClient;
            """,
        ],
        ["Claims"] =
        [
            Sources.ClaimConfig(
                "\"https://example.com/roles\", typeof(string[])",
                "\"https://example.com/is_admin\", typeof(bool), Name = \"IsAdmin\"",
                "\"nickname\", typeof(string)",
                "\"https://example.com/level\", typeof(int)",
                "\"https://example.com/quota\", typeof(long)",
                "\"https://example.com/score\", typeof(double)"),
        ],
    };

    public static TheoryData<string> Cases => [.. Configs.Keys];

    private static bool Update => Environment.GetEnvironmentVariable("AUTH0_UPDATE_SNAPSHOTS") == "1";

    private static string SnapshotRoot =>
        typeof(SnapshotTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SnapshotDirectory").Value!;

    [Theory]
    [MemberData(nameof(Cases))]
    public void EmittedCode_MatchesTheSnapshot(string name)
    {
        var run = GeneratorHarness.Run(Configs[name]);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());

        var emitted = run.Result.GeneratedSources.ToDictionary(s => s.HintName, s => Normalize(s.SourceText.ToString()), StringComparer.Ordinal);
        var directory = Path.Combine(SnapshotRoot, name);
        if (Update)
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            Directory.CreateDirectory(directory);
            foreach (var (hintName, text) in emitted) File.WriteAllText(Path.Combine(directory, hintName), text);
            return;
        }

        var baseline = Directory.Exists(directory)
            ? Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), f => File.ReadAllText(f).ReplaceLineEndings("\n"), StringComparer.Ordinal)
            : [];
        Assert.True(baseline.Keys.Order(StringComparer.Ordinal).SequenceEqual(emitted.Keys.Order(StringComparer.Ordinal)),
            $"Snapshots/{name} has [{string.Join(", ", baseline.Keys.Order(StringComparer.Ordinal))}] but the generator emitted "
            + $"[{string.Join(", ", emitted.Keys.Order(StringComparer.Ordinal))}]. {UpdateHint}");
        foreach (var (hintName, text) in emitted)
            if (baseline[hintName] != text) Assert.Fail($"Snapshots/{name}/{hintName} differs. {FirstDifference(baseline[hintName], text)}{UpdateHint}");
    }

    private const string UpdateHint = "If the change is intended, rerun with AUTH0_UPDATE_SNAPSHOTS=1 and review the diff.";

    // The generator's version is in every file; a version bump alone should not touch the snapshots.
    private static string Normalize(string source) =>
        source.Replace(SourceWriter.GeneratedCodeAttribute,
            "[global::System.CodeDom.Compiler.GeneratedCodeAttribute(\"Auth0.Generators\", \"<version>\")]", StringComparison.Ordinal);

    private static string FirstDifference(string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line]) line++;
        var message = new StringBuilder();
        message.AppendLine($"First difference at line {line + 1}:");
        message.AppendLine("  snapshot: " + (line < expectedLines.Length ? expectedLines[line] : "<end of file>"));
        message.AppendLine("  emitted:  " + (line < actualLines.Length ? actualLines[line] : "<end of file>"));
        return message.ToString();
    }
}
