using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Auth0.Generators.Model;

namespace Auth0.Generators.Parsing
{
    /// <summary>Picks the one configuration class to generate for and gathers every diagnostic.</summary>
    internal static class ConfigSelection
    {
        public static GenerationModel Select(ImmutableArray<ConfigParseResult> results, CancellationToken cancellationToken)
        {
            if (results.IsDefaultOrEmpty)
            {
                return GenerationModel.Empty;
            }

            // Ordered by position, not by syntax tree order, so "first" does not depend on how files were added.
            var ordered = results
                .OrderBy(r => r.Config.Location?.FilePath ?? string.Empty, StringComparer.Ordinal)
                .ThenBy(r => r.Config.Location?.TextSpan.Start ?? 0)
                .ToArray();

            var primary = ordered[0];
            var diagnostics = new List<DiagnosticInfo>(primary.Diagnostics);
            diagnostics.AddRange(primary.ApiDiagnostics);
            diagnostics.AddRange(primary.ClaimDiagnostics);
            foreach (var other in ordered.Skip(1))
            {
                diagnostics.AddRange(other.Diagnostics);

                // Two attributed parts of one partial class are a compiler error (CS0579), not a second class;
                // both parts see the same [Auth0Api] and [Auth0Claim] attributes, so their errors are reported once.
                if (other.Config.FullyQualifiedName != primary.Config.FullyQualifiedName)
                {
                    diagnostics.AddRange(other.ApiDiagnostics);
                    diagnostics.AddRange(other.ClaimDiagnostics);
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.MultipleConfigClasses, other.Config.Location, other.Config.DisplayName, primary.Config.DisplayName));
                }
            }

            // Emitting for a class with errors would add compiler errors that hide the real cause. [Auth0Api] and
            // [Auth0Claim] errors only leave out the declarations at fault, which the parsers have already done.
            var isValid = primary.Diagnostics.IsEmpty;
            var apiFiles = primary.Config.Apis.Select(api => ApiFileModel.From(primary.Config, api)).ToEquatableArray();
            var claimsFile = primary.Config.Claims.IsEmpty ? null : ClaimsFileModel.From(primary.Config);
            return new GenerationModel(isValid ? primary.Config : null, !isValid, diagnostics.ToEquatableArray(), apiFiles, claimsFile);
        }
    }
}
