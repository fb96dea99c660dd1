using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>Emits <c>MapAuth0Generated</c>, which maps exactly the enabled Auth0 routes.</summary>
    internal static class EndpointsEmitter
    {
        public const string HintName = "Auth0.Endpoints.g.cs";

        private const string Handlers = "global::Auth0.Minimal.AspNetCore.Auth0Handlers.";

        public static void Emit(SourceProductionContext context, EndpointsFileModel? model)
        {
            if (model is not null)
            {
                context.AddSource(HintName, SourceText.From(Render(model.Routes), Encoding.UTF8));
            }
        }

        /// <param name="routes">The routes to map, or null for a stub that throws.</param>
        public static string Render(RoutesModel? routes)
        {
            var writer = new SourceWriter().WriteFileHeader();

            // This namespace makes the method visible wherever WebApplication is used, without a using directive.
            writer.OpenBlock("namespace Microsoft.AspNetCore.Builder");
            writer.WriteLine("/// <summary>Maps the Auth0 routes configured by [Auth0Config].</summary>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);

            // Internal: a public copy in an app would clash (CS0121) with the one generated into its test project.
            writer.OpenBlock("internal static class Auth0GeneratedEndpointRouteBuilderExtensions");
            writer.WriteLine("/// <summary>Maps the enabled Auth0 routes in a route group and returns the group.</summary>");
            writer.WriteLine("/// <param name=\"endpoints\">The application or route builder to add the routes to.</param>");
            writer.WriteLine("/// <returns>The group holding the Auth0 endpoints, for adding conventions.</returns>");
            writer.OpenBlock("public static global::Microsoft.AspNetCore.Routing.RouteGroupBuilder MapAuth0Generated(this global::Microsoft.AspNetCore.Routing.IEndpointRouteBuilder endpoints)");
            writer.OpenBlock("if (endpoints is null)");
            writer.WriteLine("throw new global::System.ArgumentNullException(nameof(endpoints));");
            writer.CloseBlock();
            writer.WriteLine();
            if (routes is null)
            {
                writer.WriteLine(SourceWriter.ThrowInvalidConfig);
                writer.CloseBlock();
                writer.CloseBlock();
                writer.CloseBlock();
                return writer.ToString();
            }

            writer.WriteLine("var group = global::Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapGroup(endpoints, \"\");");

            // Always the RequestDelegate overloads: the Delegate ones need runtime code generation,
            // which Native AOT lacks, and the request delegate generator cannot see generated code.
            WriteMap(writer, "MapGet", routes.Login, "LoginAsync", "Auth0Login");
            WriteMap(writer, "MapGet", routes.Callback, "CallbackAsync", "Auth0Callback");
            WriteMap(writer, "MapGet", routes.Logout, "LogoutAsync", "Auth0Logout");
            WriteMap(writer, "MapGet", routes.Profile, "ProfileAsync", "Auth0Profile");
            if (routes.EnableAccessTokenEndpoint)
            {
                WriteMap(writer, "MapGet", routes.AccessToken, "AccessTokenAsync", "Auth0AccessToken");
            }

            if (routes.EnableBackchannelLogout)
            {
                WriteMap(writer, "MapPost", routes.BackchannelLogout, "BackchannelLogoutAsync", "Auth0BackchannelLogout");
            }

            if (routes.EnableConnectAccountEndpoint)
            {
                WriteMap(writer, "MapGet", routes.ConnectAccount, "ConnectAccountAsync", "Auth0ConnectAccount");
            }

            writer.WriteLine("return group;");
            writer.CloseBlock();
            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }

        private static void WriteMap(SourceWriter writer, string method, string path, string handler, string endpointName)
        {
            writer.WriteLine("global::Microsoft.AspNetCore.Builder.RoutingEndpointConventionBuilderExtensions.WithName(").Indent();
            writer.WriteLine(
                "global::Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions." + method + "(group, " + RoutesEmitter.Literal(path)
                + ", new global::Microsoft.AspNetCore.Http.RequestDelegate(" + Handlers + handler + ")),");
            writer.WriteLine(RoutesEmitter.Literal(endpointName) + ");").Unindent();
            writer.WriteLine();
        }
    }
}
