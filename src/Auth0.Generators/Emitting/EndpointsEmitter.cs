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
        private const string RouteMetadata = "global::Auth0.Minimal.AspNetCore.Auth0RouteMetadata";
        private const string RouteKind = "global::Auth0.Minimal.AspNetCore.Auth0RouteKind.";
        private const string WithMetadata = "global::Microsoft.AspNetCore.Builder.RoutingEndpointConventionBuilderExtensions.WithMetadata(";
        private const string Exclude = "global::Microsoft.AspNetCore.Http.OpenApiRouteHandlerBuilderExtensions.ExcludeFromDescription(";

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
            // Login, callback and back-channel logout must stay reachable under a fallback policy that requires a user.
            writer.WriteLine("global::Microsoft.AspNetCore.Builder.AuthorizationEndpointConventionBuilderExtensions.AllowAnonymous(group);");

            // Always the RequestDelegate overloads: the Delegate ones need runtime code generation,
            // which Native AOT lacks, and the request delegate generator cannot see generated code.
            // Only the JSON routes belong in an API description; the others are for browsers and the provider.
            WriteMap(writer, "MapGet", routes.Login, "Login", described: false);
            WriteMap(writer, "MapGet", routes.Callback, "Callback", described: false);
            WriteMap(writer, "MapGet", routes.Logout, "Logout", described: false);
            WriteMap(writer, "MapGet", routes.Profile, "Profile", described: true);
            if (routes.EnableAccessTokenEndpoint)
            {
                WriteMap(writer, "MapGet", routes.AccessToken, "AccessToken", described: true);
            }

            if (routes.EnableBackchannelLogout)
            {
                WriteMap(writer, "MapPost", routes.BackchannelLogout, "BackchannelLogout", described: false);
            }

            if (routes.EnableConnectAccountEndpoint)
            {
                WriteMap(writer, "MapGet", routes.ConnectAccount, "ConnectAccount", described: false);
            }

            writer.WriteLine("return group;");
            writer.CloseBlock();
            writer.CloseBlock();
            writer.CloseBlock();
            return writer.ToString();
        }

        /// <param name="route">The route's name: its handler is <c>{route}Async</c>, its endpoint name <c>Auth0{route}</c>
        /// and its <c>Auth0RouteKind</c> member <c>{route}</c>.</param>
        /// <param name="described">False adds ExcludeFromDescription, keeping the route out of API descriptions.</param>
        private static void WriteMap(SourceWriter writer, string method, string path, string route, bool described)
        {
            if (!described)
            {
                writer.WriteLine(Exclude).Indent();
            }

            writer.WriteLine(WithMetadata).Indent();
            writer.WriteLine("global::Microsoft.AspNetCore.Builder.RoutingEndpointConventionBuilderExtensions.WithName(").Indent();
            writer.WriteLine(
                "global::Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions." + method + "(group, " + RoutesEmitter.Literal(path)
                + ", new global::Microsoft.AspNetCore.Http.RequestDelegate(" + Handlers + route + "Async)),");
            writer.WriteLine(RoutesEmitter.Literal("Auth0" + route) + "),").Unindent();
            writer.WriteLine("new " + RouteMetadata + "(" + RouteKind + route + "))" + (described ? ";" : ");")).Unindent();
            if (!described)
            {
                writer.Unindent();
            }

            writer.WriteLine();
        }
    }
}
