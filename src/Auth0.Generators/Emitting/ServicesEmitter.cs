using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>
    /// Emits <c>AddAuth0Generated</c>, which registers the runtime with the configured routes, APIs and claims to keep,
    /// and each API's token client and HttpClient.
    /// </summary>
    internal static class ServicesEmitter
    {
        public const string HintName = "Auth0.Services.g.cs";

        private const string Extensions = "global::Auth0.Minimal.AspNetCore.Auth0ApiServiceCollectionExtensions.";
        private const string Definition = "global::Auth0.Minimal.Auth0ApiDefinition";
        private const string KeepClaims = "KeepDeclaredClaims";
        private const string DefaultToDPoP = "DefaultToDPoP";
        private const string OptionsAction = "global::System.Action<global::Auth0.Minimal.Auth0Options>";

        public static void Emit(SourceProductionContext context, ServicesFileModel? model)
        {
            if (model is not null)
            {
                context.AddSource(HintName, SourceText.From(Render(model), Encoding.UTF8));
            }
        }

        /// <param name="model">What to register; a null <see cref="ServicesFileModel.ConfigTypeName"/> gives a stub that throws.</param>
        public static string Render(ServicesFileModel model)
        {
            var writer = new SourceWriter().WriteFileHeader();
            writer.OpenBlock("namespace Microsoft.Extensions.DependencyInjection");
            writer.WriteLine("/// <summary>Registers Auth0 with the routes and APIs configured by [Auth0Config] and [Auth0Api].</summary>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);

            // Internal for the same reason as the endpoint extensions: avoids CS0121 across referencing projects.
            writer.OpenBlock("internal static class Auth0GeneratedServiceCollectionExtensions");
            writer.WriteLine("/// <summary>Adds the Auth0 services, bound to the configuration section, the generated routes and the declared APIs.</summary>");
            writer.WriteLine("/// <param name=\"services\">The service collection.</param>");
            writer.WriteLine("/// <param name=\"configuration\">The application configuration holding the Auth0 settings.</param>");
            writer.WriteLine("/// <param name=\"configure\">Optional extra configuration of the Auth0 options.</param>");
            writer.WriteLine("/// <returns>The same service collection, for chaining.</returns>");
            writer.WriteLine("public static global::Microsoft.Extensions.DependencyInjection.IServiceCollection AddAuth0Generated(");
            writer.Indent();
            writer.WriteLine("this global::Microsoft.Extensions.DependencyInjection.IServiceCollection services,");
            writer.WriteLine("global::Microsoft.Extensions.Configuration.IConfiguration configuration,");
            if (model.ConfigTypeName is null)
            {
                writer.WriteLine("global::System.Action<global::Auth0.Minimal.Auth0Options>? configure = null)");
                writer.WriteLine("=> " + SourceWriter.ThrowInvalidConfig);
                writer.Unindent();
                writer.CloseBlock();
                writer.CloseBlock();
                return writer.ToString();
            }

            writer.WriteLine("global::System.Action<global::Auth0.Minimal.Auth0Options>? configure = null)");
            writer.Unindent();
            writer.WriteLine("{").Indent();
            WriteCore(writer, model);
            foreach (var api in model.Apis)
            {
                WriteApi(writer, model.Namespace, api);
            }

            writer.WriteLine();
            writer.WriteLine("return services;");
            writer.CloseBlock();
            if (!model.Claims.IsEmpty)
            {
                writer.WriteLine();
                WriteKeepClaims(writer, model);
            }

            if (model.UseDPoP)
            {
                writer.WriteLine();
                WriteDefaultToDPoP(writer);
            }

            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }

        private static void WriteCore(SourceWriter writer, ServicesFileModel model)
        {
            writer.WriteLine("global::Auth0.Minimal.AspNetCore.Auth0ServiceCollectionExtensions.AddAuth0Core(services, configuration, "
                + model.ConfigTypeName + ".Routes,");
            writer.Indent();
            if (model.Apis.IsEmpty)
            {
                writer.WriteLine("global::System.Array.Empty<" + Definition + ">(),");
            }
            else
            {
                writer.WriteLine("new " + Definition + "[]");
                writer.WriteLine("{").Indent();
                foreach (var api in model.Apis)
                {
                    writer.WriteLine("new " + Definition + "(" + RoutesEmitter.Literal(api.Name) + ", " + RoutesEmitter.Literal(api.Audience) + ", "
                        + ApiEmitter.Literal(api.Scope) + ", " + ApiEmitter.Literal(api.BaseAddress) + ", " + RoutesEmitter.Literal(api.UseDPoP) + "),");
                }

                writer.Unindent().WriteLine("},");
            }

            var configure = model.Claims.IsEmpty ? "configure" : KeepClaims + "(configure)";
            writer.WriteLine((model.UseDPoP ? DefaultToDPoP + "(configuration, " + configure + ")" : configure) + ");");
            writer.Unindent();
        }

        // The claims are added before the app's configure runs, so the app can still remove one.
        private static void WriteKeepClaims(SourceWriter writer, ServicesFileModel model)
        {
            writer.WriteLine("/// <summary>Keeps the claims declared with [Auth0Claim] in the session, then runs <paramref name=\"configure\"/>.</summary>");
            writer.WriteLine("/// <param name=\"configure\">The application's configuration of the Auth0 options, or null.</param>");
            writer.WriteLine("/// <returns>The configuration passed to the Auth0 runtime.</returns>");
            writer.WriteLine("private static global::System.Action<global::Auth0.Minimal.Auth0Options> " + KeepClaims
                + "(global::System.Action<global::Auth0.Minimal.Auth0Options>? configure) =>");
            writer.Indent();
            writer.WriteLine("options =>");
            writer.WriteLine("{").Indent();
            foreach (var claim in model.Claims)
            {
                writer.WriteLine("options.IdTokenClaimsToKeep.Add(" + RoutesEmitter.Literal(claim) + ");");
            }

            writer.WriteLine("configure?.Invoke(options);");
            writer.Unindent().WriteLine("};");
            writer.Unindent();
        }

        // The runtime binds the configuration before it runs the configure callback, so [Auth0Config(UseDPoP = true)]
        // cannot simply set the option there: it would override AUTH0_USE_DPOP=false. Empty values count as unset,
        // as they do for the runtime.
        private static void WriteDefaultToDPoP(SourceWriter writer)
        {
            writer.WriteLine("/// <summary>");
            writer.WriteLine("/// Turns DPoP on, as [Auth0Config] asks, unless <paramref name=\"configuration\"/> sets AUTH0_USE_DPOP or Auth0:UseDPoP,");
            writer.WriteLine("/// then runs <paramref name=\"configure\"/>.");
            writer.WriteLine("/// </summary>");
            writer.WriteLine("/// <param name=\"configuration\">The application configuration, whose DPoP setting wins.</param>");
            writer.WriteLine("/// <param name=\"configure\">The rest of the configuration of the Auth0 options, or null.</param>");
            writer.WriteLine("/// <returns>The configuration passed to the Auth0 runtime.</returns>");
            writer.WriteLine("private static " + OptionsAction + " " + DefaultToDPoP + "(");
            writer.Indent();
            writer.WriteLine("global::Microsoft.Extensions.Configuration.IConfiguration configuration,");
            writer.WriteLine(OptionsAction + "? configure) =>");
            writer.WriteLine("options =>");
            writer.WriteLine("{").Indent();
            writer.WriteLine("if (string.IsNullOrEmpty(configuration[\"AUTH0_USE_DPOP\"]) && string.IsNullOrEmpty(configuration[\"Auth0:UseDPoP\"]))");
            writer.WriteLine("{").Indent();
            writer.WriteLine("options.UseDPoP = true;");
            writer.Unindent().WriteLine("}");
            writer.WriteLine();
            writer.WriteLine("configure?.Invoke(options);");
            writer.Unindent().WriteLine("};");
            writer.Unindent();
        }

        private static void WriteApi(SourceWriter writer, string? ns, ApiModel api)
        {
            var tokenInterface = ApiEmitter.Qualified(ns, ApiEmitter.InterfaceName(api.Name));
            var tokenClient = ApiEmitter.Qualified(ns, ApiEmitter.TokenClientName(api.Name));
            writer.WriteLine();
            writer.WriteLine(Extensions + "AddAuth0ApiTokenClient<" + tokenInterface + ">(services, static (accessor, tokens) => new "
                + tokenClient + "(accessor, tokens));");
            if (api.BaseAddress is null)
            {
                return;
            }

            var wrapper = ApiEmitter.Qualified(ns, ApiEmitter.HttpClientWrapperName(api.Name));
            writer.WriteLine(Extensions + "AddAuth0ApiHttpClient<" + tokenInterface + ">(services, " + RoutesEmitter.Literal(api.Name) + ", "
                + RoutesEmitter.Literal(api.BaseAddress) + ");");
            writer.WriteLine("global::Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddTransient<" + wrapper + ">(services, static provider =>").Indent();
            writer.WriteLine("new " + wrapper + "(global::Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions");
            writer.Indent();
            writer.WriteLine(".GetRequiredService<global::System.Net.Http.IHttpClientFactory>(provider)");
            writer.WriteLine(".CreateClient(" + wrapper + ".ClientName)));");
            writer.Unindent().Unindent();
        }
    }
}
