using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Auth0.Generators.Parsing
{
    /// <summary>Reads and validates the route settings of [Auth0Config].</summary>
    internal static class RoutesParser
    {
        // Must match the defaults of Auth0.Minimal.Auth0Routes in the runtime.
        public const string DefaultLogin = "/auth/login";
        public const string DefaultCallback = "/auth/callback";
        public const string DefaultLogout = "/auth/logout";
        public const string DefaultProfile = "/auth/profile";
        public const string DefaultAccessToken = "/auth/access-token";
        public const string DefaultBackchannelLogout = "/auth/backchannel-logout";
        public const string DefaultConnectAccount = "/auth/connect";

        private const string LoginPath = "LoginPath";
        private const string CallbackPath = "CallbackPath";
        private const string LogoutPath = "LogoutPath";
        private const string ProfilePath = "ProfilePath";
        private const string AccessTokenPath = "AccessTokenPath";
        private const string BackchannelLogoutPath = "BackchannelLogoutPath";
        private const string ConnectAccountPath = "ConnectAccountPath";
        private const string EnableConnectAccountEndpoint = "EnableConnectAccountEndpoint";
        private const string EnableAccessTokenEndpoint = "EnableAccessTokenEndpoint";
        private const string EnableBackchannelLogout = "EnableBackchannelLogout";

        private static readonly string[] PathProperties =
        {
            LoginPath, CallbackPath, LogoutPath, ProfilePath, AccessTokenPath, BackchannelLogoutPath, ConnectAccountPath,
        };

        public static RoutesModel Parse(
            AttributeData attribute,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var paths = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [LoginPath] = DefaultLogin,
                [CallbackPath] = DefaultCallback,
                [LogoutPath] = DefaultLogout,
                [ProfilePath] = DefaultProfile,
                [AccessTokenPath] = DefaultAccessToken,
                [BackchannelLogoutPath] = DefaultBackchannelLogout,
                [ConnectAccountPath] = DefaultConnectAccount,
            };
            var explicitLocations = new Dictionary<string, LocationInfo?>(StringComparer.Ordinal);
            var invalid = new HashSet<string>(StringComparer.Ordinal);
            var enableAccessToken = true;
            var enableBackchannel = true;
            var enableConnect = false;

            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            var attributeLocation = syntax is null ? null : LocationInfo.From(syntax);

            // Syntax rather than AttributeData.NamedArguments: it gives each value a location and
            // still sees arguments the compiler rejected.
            foreach (var argument in syntax?.ArgumentList?.Arguments ?? default)
            {
                if (argument.NameEquals is null)
                {
                    continue;
                }

                var name = argument.NameEquals.Name.Identifier.ValueText;
                var constant = semanticModel.GetConstantValue(argument.Expression, cancellationToken);

                if (paths.ContainsKey(name))
                {
                    var location = LocationInfo.From(argument.Expression);
                    explicitLocations[name] = location;
                    if (!constant.HasValue || constant.Value is not string path)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NonConstantRoutePath, location, name));
                        invalid.Add(name);
                        continue;
                    }

                    paths[name] = path;
                    if (!IsValidPath(path))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidRoutePath, location, name, path));
                        invalid.Add(name);
                    }
                }
                else if (constant is { HasValue: true, Value: bool enabled })
                {
                    // A non-constant bool is already a compiler error (CS0182).
                    if (name == EnableAccessTokenEndpoint)
                    {
                        enableAccessToken = enabled;
                    }
                    else if (name == EnableBackchannelLogout)
                    {
                        enableBackchannel = enabled;
                    }
                    else if (name == EnableConnectAccountEndpoint)
                    {
                        enableConnect = enabled;
                    }
                }
            }

            ReportDuplicates(paths, explicitLocations, invalid, enableAccessToken, enableBackchannel, enableConnect, attributeLocation, diagnostics);

            return new RoutesModel(
                paths[LoginPath],
                paths[CallbackPath],
                paths[LogoutPath],
                paths[ProfilePath],
                paths[AccessTokenPath],
                paths[BackchannelLogoutPath],
                enableAccessToken,
                enableBackchannel,
                paths[ConnectAccountPath],
                enableConnect);
        }

        internal static bool IsValidPath(string path) =>
            path.Length > 0
            && path[0] == '/'
            && !path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '?' or '#' or '{' or '}');

        private static void ReportDuplicates(
            Dictionary<string, string> paths,
            Dictionary<string, LocationInfo?> explicitLocations,
            HashSet<string> invalid,
            bool enableAccessToken,
            bool enableBackchannel,
            bool enableConnect,
            LocationInfo? attributeLocation,
            List<DiagnosticInfo> diagnostics)
        {
            // Disabled routes are not mapped, so they cannot clash; invalid ones already have an error.
            var mapped = PathProperties
                .Where(p => (p != AccessTokenPath || enableAccessToken) && (p != BackchannelLogoutPath || enableBackchannel)
                    && (p != ConnectAccountPath || enableConnect))
                .Where(p => !invalid.Contains(p))
                .ToArray();

            for (var j = 1; j < mapped.Length; j++)
            {
                for (var i = 0; i < j; i++)
                {
                    if (!string.Equals(Normalize(paths[mapped[i]]), Normalize(paths[mapped[j]]), StringComparison.OrdinalIgnoreCase))
                    {
                        continue;
                    }

                    // Point at a value the user wrote; defaults never clash with each other.
                    var location = explicitLocations.TryGetValue(mapped[j], out var later) ? later
                        : explicitLocations.TryGetValue(mapped[i], out var earlier) ? earlier
                        : attributeLocation;
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.DuplicateRoutePath, location, mapped[i], mapped[j], paths[mapped[j]]));
                    break;
                }
            }
        }

        // Routing matches "/a" and "/a/" alike.
        private static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;
    }
}
