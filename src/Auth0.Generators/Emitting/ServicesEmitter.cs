using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>Emits <c>AddAuth0Generated</c>, which registers the runtime with the configured routes.</summary>
    internal static class ServicesEmitter
    {
        public const string HintName = "Auth0.Services.g.cs";

        public static void Emit(SourceProductionContext context, ServicesFileModel? model)
        {
            if (model is not null)
            {
                context.AddSource(HintName, SourceText.From(Render(model.ConfigTypeName), Encoding.UTF8));
            }
        }

        /// <param name="configTypeName">The <c>global::</c>-qualified name of the configuration class, or null for a stub that throws.</param>
        public static string Render(string? configTypeName)
        {
            var writer = new SourceWriter().WriteFileHeader();
            writer.OpenBlock("namespace Microsoft.Extensions.DependencyInjection");
            writer.WriteLine("/// <summary>Registers Auth0 with the routes configured by [Auth0Config].</summary>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);

            // Internal for the same reason as the endpoint extensions: avoids CS0121 across referencing projects.
            writer.OpenBlock("internal static class Auth0GeneratedServiceCollectionExtensions");
            writer.WriteLine("/// <summary>Adds the Auth0 services, bound to the configuration section and the generated routes.</summary>");
            writer.WriteLine("/// <param name=\"services\">The service collection.</param>");
            writer.WriteLine("/// <param name=\"configuration\">The application configuration holding the Auth0 settings.</param>");
            writer.WriteLine("/// <param name=\"configure\">Optional extra configuration of the Auth0 options.</param>");
            writer.WriteLine("/// <returns>The same service collection, for chaining.</returns>");
            writer.WriteLine("public static global::Microsoft.Extensions.DependencyInjection.IServiceCollection AddAuth0Generated(");
            writer.Indent();
            writer.WriteLine("this global::Microsoft.Extensions.DependencyInjection.IServiceCollection services,");
            writer.WriteLine("global::Microsoft.Extensions.Configuration.IConfiguration configuration,");
            writer.WriteLine("global::System.Action<global::Auth0.Minimal.Auth0Options>? configure = null)");
            writer.WriteLine(configTypeName is null
                ? "=> " + SourceWriter.ThrowInvalidConfig
                : "=> global::Auth0.Minimal.AspNetCore.Auth0ServiceCollectionExtensions.AddAuth0Core(services, configuration, "
                    + configTypeName + ".Routes, configure);");
            writer.Unindent();
            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }
    }
}
