using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>
    /// Emits, for one [Auth0Api], the <c>I{Name}ApiTokenClient</c> interface and its implementation, and, when the API
    /// has a base address, the <c>{Name}ApiHttpClient</c> wrapper.
    /// </summary>
    internal static class ApiEmitter
    {
        /// <summary>Must match <c>Auth0ApiServiceCollectionExtensions.HttpClientName</c> in the runtime.</summary>
        public const string HttpClientNamePrefix = "Auth0.Api.";

        public static string HintName(string apiName) => "Auth0.Api." + apiName + ".g.cs";

        public static string InterfaceName(string apiName) => "I" + apiName + "ApiTokenClient";

        public static string TokenClientName(string apiName) => apiName + "ApiTokenClient";

        public static string HttpClientWrapperName(string apiName) => apiName + "ApiHttpClient";

        /// <summary>The <c>global::</c>-qualified name of a type generated into <paramref name="ns"/>.</summary>
        public static string Qualified(string? ns, string typeName) =>
            ns is null ? "global::" + typeName : "global::" + ns + "." + typeName;

        public static void Emit(SourceProductionContext context, ApiFileModel model) =>
            context.AddSource(HintName(model.Name), SourceText.From(Render(model), Encoding.UTF8));

        public static string Render(ApiFileModel model)
        {
            var name = model.Name;
            var interfaceName = InterfaceName(name);
            var writer = new SourceWriter().WriteFileHeader();
            if (model.Namespace is not null)
            {
                writer.OpenBlock("namespace " + model.Namespace);
            }

            writer.WriteLine("/// <summary>Access tokens for the " + name + " API (audience " + XmlText(model.Audience) + ").</summary>");
            writer.WriteLine("/// <remarks>Registered by AddAuth0Generated; it only ever asks for this API's audience and scope.</remarks>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);
            // Partial, so the app may declare "partial interface I...;" itself: ASP.NET's request delegate generator
            // cannot see generated types, so minimal API handlers under Native AOT need that declaration.
            writer.OpenBlock((model.InterfaceDeclaredByUser ? "" : model.Accessibility + " ") + "partial interface " + interfaceName + " : global::Auth0.Minimal.IAuth0ApiTokenClient");
            writer.CloseBlock();
            writer.WriteLine();

            writer.WriteLine("/// <summary>The <see cref=\"" + interfaceName + "\"/> registered by AddAuth0Generated.</summary>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);
            writer.OpenBlock("internal sealed class " + TokenClientName(name) + " : global::Auth0.Minimal.Auth0ApiTokenClient, "
                + Qualified(model.Namespace, interfaceName));
            writer.WriteLine("/// <summary>Binds the token service to the " + name + " API's audience and scope.</summary>");
            writer.WriteLine("/// <param name=\"httpContextAccessor\">Gives the current request, whose session holds the tokens.</param>");
            writer.WriteLine("/// <param name=\"tokens\">The Auth0 token service.</param>");
            writer.WriteLine("public " + TokenClientName(name) + "(global::Microsoft.AspNetCore.Http.IHttpContextAccessor httpContextAccessor, global::Auth0.Minimal.Auth0TokenService tokens)");
            writer.Indent();
            writer.WriteLine(": base(httpContextAccessor, tokens, " + RoutesEmitter.Literal(name) + ", " + RoutesEmitter.Literal(model.Audience) + ", "
                + Literal(model.Scope) + ")");
            writer.Unindent();
            writer.WriteLine("{");
            writer.WriteLine("}");
            writer.CloseBlock();

            if (model.BaseAddress is not null)
            {
                var wrapper = HttpClientWrapperName(name);
                writer.WriteLine();
                writer.WriteLine("/// <summary>HttpClient for the " + name + " API at " + XmlText(model.BaseAddress)
                    + ": sends only the " + name + " API token, only to that origin.</summary>");
                writer.WriteLine("/// <remarks>Registered by AddAuth0Generated as a transient service; inject it instead of the raw client.</remarks>");
                writer.WriteLine(SourceWriter.GeneratedCodeAttribute);
                writer.OpenBlock((model.HttpClientDeclaredByUser ? "" : model.Accessibility + " ") + "sealed partial class " + wrapper + " : global::Auth0.Minimal.Http.Auth0ApiHttpClient");
                writer.WriteLine("/// <summary>The name of the IHttpClientFactory client of the " + name + " API.</summary>");
                writer.WriteLine("public const string ClientName = " + RoutesEmitter.Literal(HttpClientNamePrefix + name) + ";");
                writer.WriteLine();
                writer.WriteLine("/// <summary>Wraps the client created for the " + name + " API.</summary>");
                writer.WriteLine("/// <param name=\"client\">The client named <see cref=\"ClientName\"/>.</param>");
                writer.WriteLine("public " + wrapper + "(global::System.Net.Http.HttpClient client)");
                writer.Indent();
                writer.WriteLine(": base(client)");
                writer.Unindent();
                writer.WriteLine("{");
                writer.WriteLine("}");
                writer.CloseBlock();
            }

            if (model.Namespace is not null)
            {
                writer.CloseBlock();
            }

            return writer.ToString();
        }

        internal static string Literal(string? value) => value is null ? "null" : RoutesEmitter.Literal(value);

        /// <summary>
        /// Text safe inside a one-line XML doc comment: markup characters escaped and anything that could end the
        /// line replaced (the parser already rejects such values; this keeps the generated file valid regardless).
        /// </summary>
        internal static string XmlText(string value)
        {
            var builder = new StringBuilder(value.Length);
            foreach (var c in value)
            {
                switch (c)
                {
                    case '&':
                        builder.Append("&amp;");
                        break;
                    case '<':
                        builder.Append("&lt;");
                        break;
                    case '>':
                        builder.Append("&gt;");
                        break;
                    default:
                        builder.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
                        break;
                }
            }

            return builder.ToString();
        }
    }
}
