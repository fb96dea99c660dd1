using System.Collections.Generic;
using System.Threading;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators.Parsing
{
    /// <summary>Reads the [Auth0Api] attributes of the configuration class.</summary>
    internal static class ApiParser
    {
        public const string ApiAttributeName = "Auth0ApiAttribute";
        public const string ApiAttributeNamespace = "Auth0.Minimal";

        public static EquatableArray<ApiModel> Parse(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            var apis = new List<ApiModel>();
            foreach (var attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!IsApiAttribute(attribute.AttributeClass))
                {
                    continue;
                }

                var name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
                if (name is null)
                {
                    // The compiler already reports a missing or non-constant name.
                    continue;
                }

                string? audience = null, scope = null, baseAddress = null;
                var useDPoP = false;
                foreach (var argument in attribute.NamedArguments)
                {
                    switch (argument.Key)
                    {
                        case "Audience":
                            audience = argument.Value.Value as string;
                            break;
                        case "Scope":
                            scope = argument.Value.Value as string;
                            break;
                        case "BaseAddress":
                            baseAddress = argument.Value.Value as string;
                            break;
                        case "UseDPoP":
                            useDPoP = argument.Value.Value is true;
                            break;
                    }
                }

                var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken);
                apis.Add(new ApiModel(name, audience, scope, baseAddress, useDPoP, syntax is null ? null : LocationInfo.From(syntax)));
            }

            return apis.ToEquatableArray();
        }

        private static bool IsApiAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: ApiAttributeName, ContainingType: null }
            && attributeClass.ContainingNamespace.ToDisplayString() == ApiAttributeNamespace;
    }
}
