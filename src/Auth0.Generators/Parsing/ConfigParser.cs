using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Auth0.Generators.Parsing
{
    /// <summary>Reads a class marked [Auth0Config] into a <see cref="ConfigParseResult"/>.</summary>
    internal static class ConfigParser
    {
        public const string ConfigAttributeMetadataName = "Auth0.Minimal.Auth0ConfigAttribute";

        /// <summary>The [Auth0Config] property that turns DPoP on by default.</summary>
        public const string UseDPoPProperty = "UseDPoP";

        private static readonly SymbolDisplayFormat NamespaceFormat = new(
            globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
            typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
            miscellaneousOptions: SymbolDisplayMiscellaneousOptions.EscapeKeywordIdentifiers);

        public static bool IsCandidate(SyntaxNode node, CancellationToken cancellationToken) =>
            node is ClassDeclarationSyntax or RecordDeclarationSyntax;

        public static ConfigParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var declaration = (TypeDeclarationSyntax)context.TargetNode;
            var type = (INamedTypeSymbol)context.TargetSymbol;
            var diagnostics = new List<DiagnosticInfo>();
            var classLocation = LocationInfo.From(declaration.Identifier);
            var displayName = type.ToDisplayString();

            var isPartial = declaration.Modifiers.Any(SyntaxKind.PartialKeyword);
            if (!isPartial)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ClassNotPartial, classLocation, displayName, displayName));
            }

            var containingTypes = new List<ContainingTypeModel>();
            foreach (var outer in declaration.Ancestors().OfType<TypeDeclarationSyntax>().Reverse())
            {
                var outerIsPartial = outer.Modifiers.Any(SyntaxKind.PartialKeyword);
                if (!outerIsPartial)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.ClassNotPartial, LocationInfo.From(outer.Identifier), outer.Identifier.ValueText, displayName));
                }

                containingTypes.Add(new ContainingTypeModel(GetKeyword(outer), outer.Identifier.Text, outerIsPartial));
            }

            // IsGenericType also covers type parameters on containing types.
            if (type.IsGenericType)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.GenericConfigClass, classLocation, displayName));
            }

            if (!IsAccessibleInAssembly(type))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InaccessibleConfigClass, classLocation, displayName));
            }

            var routes = RoutesParser.Parse(context.Attributes[0], context.SemanticModel, diagnostics, cancellationToken);
            var useDPoP = ReadUseDPoP(context.Attributes[0], context.SemanticModel, cancellationToken);
            var apiDiagnostics = new List<DiagnosticInfo>();
            var apis = ApiParser.Parse(type, context.SemanticModel, useDPoP, apiDiagnostics, cancellationToken);
            var claimDiagnostics = new List<DiagnosticInfo>();
            var claims = ClaimParser.Parse(type, context.SemanticModel, claimDiagnostics, cancellationToken);

            var model = new ConfigClassModel(
                Namespace: type.ContainingNamespace is { IsGlobalNamespace: false } ns ? ns.ToDisplayString(NamespaceFormat) : null,
                ClassName: declaration.Identifier.Text,
                TypeKeyword: GetKeyword(declaration),
                Accessibility: GetAccessibility(type),
                ApiAccessibility: IsVisibleOutsideAssembly(type) ? "public" : "internal",
                IsPartial: isPartial,
                FullyQualifiedName: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                DisplayName: displayName,
                ContainingTypes: containingTypes.ToEquatableArray(),
                Routes: routes,
                Apis: apis,
                Claims: claims,
                UseDPoP: useDPoP == true,
                Location: classLocation);

            return new ConfigParseResult(
                model, diagnostics.ToEquatableArray(), apiDiagnostics.ToEquatableArray(), claimDiagnostics.ToEquatableArray());
        }

        /// <summary>
        /// The UseDPoP value of [Auth0Config]: false when it is not set, null when it is set to something that is not
        /// a constant bool (a compiler error already, so the APIs that use DPoP are not blamed for it).
        /// </summary>
        private static bool? ReadUseDPoP(AttributeData attribute, SemanticModel semanticModel, CancellationToken cancellationToken)
        {
            // Syntax rather than AttributeData.NamedArguments, which leaves out values the compiler rejected.
            var syntax = attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax;
            bool? useDPoP = false;
            foreach (var argument in syntax?.ArgumentList?.Arguments ?? default)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == UseDPoPProperty)
                {
                    useDPoP = semanticModel.GetConstantValue(argument.Expression, cancellationToken) is { HasValue: true, Value: bool value }
                        ? value
                        : null;
                }
            }

            return useDPoP;
        }

        private static string GetKeyword(TypeDeclarationSyntax declaration) => declaration switch
        {
            RecordDeclarationSyntax record when record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => "record struct",
            RecordDeclarationSyntax => "record",
            _ => declaration.Keyword.ValueText,
        };

        private static bool IsAccessibleInAssembly(INamedTypeSymbol type)
        {
            for (var current = type; current is not null; current = current.ContainingType)
            {
                if (current.IsFileLocal)
                {
                    return false;
                }

                switch (current.DeclaredAccessibility)
                {
                    case Accessibility.Private:
                    case Accessibility.Protected:
                    case Accessibility.ProtectedAndInternal:
                        return false;
                }
            }

            return true;
        }

        private static bool IsVisibleOutsideAssembly(INamedTypeSymbol type)
        {
            for (var current = type; current is not null; current = current.ContainingType)
            {
                if (current.IsFileLocal || current.DeclaredAccessibility != Accessibility.Public)
                {
                    return false;
                }
            }

            return true;
        }

        private static string GetAccessibility(INamedTypeSymbol type)
        {
            if (type.IsFileLocal)
            {
                return "file";
            }

            return type.DeclaredAccessibility switch
            {
                Accessibility.Public => "public",
                Accessibility.Internal => "internal",
                Accessibility.Private => "private",
                Accessibility.Protected => "protected",
                Accessibility.ProtectedOrInternal => "protected internal",
                Accessibility.ProtectedAndInternal => "private protected",
                _ => string.Empty,
            };
        }
    }
}
