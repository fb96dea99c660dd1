using System.Linq;
using System.Threading;
using Auth0.Generators.Emitting;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Auth0.Generators.Parsing
{
    /// <summary>Finds the partial API types an app declares itself, by syntax alone (names only, no symbols).</summary>
    internal static class DeclaredApiTypes
    {
        public static bool IsCandidate(SyntaxNode node, CancellationToken _) =>
            node is TypeDeclarationSyntax type
            && (type is InterfaceDeclarationSyntax || type is ClassDeclarationSyntax)
            && type.Modifiers.Any(SyntaxKind.PartialKeyword)
            && type.Parent is BaseNamespaceDeclarationSyntax or CompilationUnitSyntax
            && (type.Identifier.ValueText.EndsWith("ApiTokenClient", System.StringComparison.Ordinal)
                || type.Identifier.ValueText.EndsWith("ApiHttpClient", System.StringComparison.Ordinal));

        public static string? FullName(GeneratorSyntaxContext context, CancellationToken _)
        {
            var type = (TypeDeclarationSyntax)context.Node;
            var names = type.Ancestors().OfType<BaseNamespaceDeclarationSyntax>().Select(n => n.Name.ToString()).Reverse().ToArray();
            var ns = string.Join(".", names);
            return (ns.Length == 0 ? "" : ns + ".") + type.Identifier.ValueText;
        }

        public static ApiFileModel Apply(ApiFileModel model, EquatableArray<string> declared)
        {
            var prefix = model.Namespace is null ? "" : model.Namespace + ".";
            var declaresInterface = declared.Contains(prefix + ApiEmitter.InterfaceName(model.Name));
            var declaresClient = declared.Contains(prefix + ApiEmitter.HttpClientWrapperName(model.Name));
            return declaresInterface == model.InterfaceDeclaredByUser && declaresClient == model.HttpClientDeclaredByUser
                ? model
                : model with { InterfaceDeclaredByUser = declaresInterface, HttpClientDeclaredByUser = declaresClient };
        }
    }
}
