using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>Emits the <c>Routes</c> property into the user's partial configuration class.</summary>
    internal static class RoutesEmitter
    {
        public const string HintName = "Auth0Config.Routes.g.cs";

        public static void Emit(SourceProductionContext context, RoutesFileModel? model)
        {
            if (model is not null)
            {
                context.AddSource(HintName, SourceText.From(Render(model), Encoding.UTF8));
            }
        }

        public static string Render(RoutesFileModel model)
        {
            var writer = new SourceWriter().WriteFileHeader();
            if (model.Namespace is not null)
            {
                writer.OpenBlock("namespace " + model.Namespace);
            }

            foreach (var outer in model.ContainingTypes)
            {
                writer.OpenBlock("partial " + outer.Keyword + " " + outer.Name);
            }

            var routes = model.Routes;
            writer.OpenBlock("partial " + model.TypeKeyword + " " + model.ClassName);
            writer.WriteLine("/// <summary>The Auth0 routes set by [Auth0Config], passed to the Auth0 runtime by AddAuth0Generated.</summary>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);
            writer.WriteLine("internal static global::Auth0.Minimal.Auth0Routes Routes { get; } = new global::Auth0.Minimal.Auth0Routes");
            writer.WriteLine("{").Indent();
            writer.WriteLine("Login = " + Literal(routes.Login) + ",");
            writer.WriteLine("Callback = " + Literal(routes.Callback) + ",");
            writer.WriteLine("Logout = " + Literal(routes.Logout) + ",");
            writer.WriteLine("Profile = " + Literal(routes.Profile) + ",");
            writer.WriteLine("AccessToken = " + Literal(routes.AccessToken) + ",");
            writer.WriteLine("BackchannelLogout = " + Literal(routes.BackchannelLogout) + ",");
            writer.WriteLine("EnableAccessTokenEndpoint = " + Literal(routes.EnableAccessTokenEndpoint) + ",");
            writer.WriteLine("EnableBackchannelLogout = " + Literal(routes.EnableBackchannelLogout) + ",");
            writer.WriteLine("ConnectAccount = " + Literal(routes.ConnectAccount) + ",");
            writer.WriteLine("EnableConnectAccountEndpoint = " + Literal(routes.EnableConnectAccountEndpoint) + ",");
            writer.Unindent().WriteLine("};");
            writer.CloseBlock();

            for (var i = 0; i < model.ContainingTypes.Count; i++)
            {
                writer.CloseBlock();
            }

            if (model.Namespace is not null)
            {
                writer.CloseBlock();
            }

            return writer.ToString();
        }

        internal static string Literal(string value) => SymbolDisplay.FormatLiteral(value, quote: true);

        internal static string Literal(bool value) => value ? "true" : "false";
    }
}
