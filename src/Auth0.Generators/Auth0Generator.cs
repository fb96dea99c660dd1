using Auth0.Generators.Emitting;
using Auth0.Generators.Model;
using Auth0.Generators.Parsing;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators
{
    /// <summary>
    /// Generates the Auth0 routes, <c>AddAuth0Generated</c> and <c>MapAuth0Generated</c> from the class marked [Auth0Config],
    /// a token client (plus an HttpClient when it has a base address) for each [Auth0Api] on it, and a typed accessor for
    /// each [Auth0Claim] on it.
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed class Auth0Generator : IIncrementalGenerator
    {
        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            var configs = context.SyntaxProvider
                .ForAttributeWithMetadataName(ConfigParser.ConfigAttributeMetadataName, ConfigParser.IsCandidate, ConfigParser.Parse)
                .WithTrackingName(TrackingNames.ConfigClasses);

            var generation = configs
                .Collect()
                .WithTrackingName(TrackingNames.AllConfigClasses)
                .Select(ConfigSelection.Select)
                .WithTrackingName(TrackingNames.Selection);

            var diagnostics = generation
                .Select(static (model, _) => model.Diagnostics)
                .WithTrackingName(TrackingNames.Diagnostics);
            context.RegisterSourceOutput(diagnostics, static (spc, items) =>
            {
                foreach (var item in items)
                {
                    spc.ReportDiagnostic(item.ToDiagnostic());
                }
            });

            // Each file gets the narrowest input it needs, so unrelated changes leave it cached.
            var routesFile = generation
                .Select(static (model, _) => model.Config is null ? null : RoutesFileModel.From(model.Config))
                .WithTrackingName(TrackingNames.RoutesFile);
            context.RegisterSourceOutput(routesFile, RoutesEmitter.Emit);

            // With an invalid config the extension methods still exist (as stubs), so call sites
            // compile and the AUTH diagnostics are the only errors the user sees.
            var endpointsFile = generation
                .Select(static (model, _) => model.Config is not null ? new EndpointsFileModel(model.Config.Routes)
                    : model.HasInvalidConfig ? new EndpointsFileModel(null)
                    : null)
                .WithTrackingName(TrackingNames.EndpointsFile);
            context.RegisterSourceOutput(endpointsFile, EndpointsEmitter.Emit);

            var servicesFile = generation
                .Select(static (model, _) => model.Config is not null ? ServicesFileModel.From(model.Config)
                    : model.HasInvalidConfig ? ServicesFileModel.Stub
                    : null)
                .WithTrackingName(TrackingNames.ServicesFile);
            context.RegisterSourceOutput(servicesFile, ServicesEmitter.Emit);

            // Like the API types, the claim accessors do not refer to the configuration class, so they are emitted
            // even when it has errors.
            var claimsFile = generation
                .Select(static (model, _) => model.ClaimsFile)
                .WithTrackingName(TrackingNames.ClaimsFile);
            context.RegisterSourceOutput(claimsFile, ClaimsEmitter.Emit);

            // Partial API types the app declares itself (so ASP.NET's request delegate generator can see them).
            var declaredApiTypes = context.SyntaxProvider
                .CreateSyntaxProvider(DeclaredApiTypes.IsCandidate, DeclaredApiTypes.FullName)
                .WithTrackingName(TrackingNames.DeclaredApiTypes)
                .Collect()
                .Select(static (names, _) => names.Where(static n => n is not null).Select(static n => n!).Distinct().OrderBy(static n => n, System.StringComparer.Ordinal).ToEquatableArray())
                .WithTrackingName(TrackingNames.AllDeclaredApiTypes);

            // One item per API, compared one by one, so editing one API re-emits only that API's file.
            var apiFiles = generation
                .SelectMany(static (model, _) => model.ApiFiles)
                .WithTrackingName(TrackingNames.ApiFiles)
                .Combine(declaredApiTypes)
                .Select(static (pair, _) => DeclaredApiTypes.Apply(pair.Left, pair.Right))
                .WithTrackingName(TrackingNames.ApiFilesToEmit);
            context.RegisterSourceOutput(apiFiles, ApiEmitter.Emit);
        }
    }
}
