using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Auth0.Generators.Parsing
{
    /// <summary>Reads and validates the [Auth0Claim] attributes of the configuration class.</summary>
    internal static class ClaimParser
    {
        public const string ClaimAttributeName = "Auth0ClaimAttribute";
        public const string ClaimAttributeNamespace = "Auth0.Minimal";

        // The constructor parameters and the settable property of Auth0ClaimAttribute.
        public const string ClaimParameter = "claim";
        public const string TypeParameter = "type";
        public const string NameProperty = "Name";

        /// <summary>
        /// Returns the valid declarations, in source order, and adds a diagnostic for each problem. A declaration
        /// with a problem is left out, so the code generated for the others stays free of follow-on errors.
        /// </summary>
        public static EquatableArray<ClaimModel> Parse(
            INamedTypeSymbol type,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            // GetAttributes covers every partial declaration; each may be in its own syntax tree.
            var syntaxes = new List<AttributeSyntax>();
            foreach (var attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (IsClaimAttribute(attribute.AttributeClass)
                    && attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax syntax)
                {
                    syntaxes.Add(syntax);
                }
            }

            if (syntaxes.Count == 0)
            {
                return EquatableArray<ClaimModel>.Empty;
            }

            // By position, so which of two clashing declarations is "first" does not depend on file order.
            var declarations = syntaxes
                .OrderBy(s => s.SyntaxTree.FilePath, StringComparer.Ordinal)
                .ThenBy(s => s.SpanStart)
                .Select(s => Read(s, ModelFor(s.SyntaxTree, semanticModel), diagnostics, cancellationToken))
                .ToList();

            foreach (var declaration in declarations)
            {
                Validate(declaration, diagnostics);
            }

            ReportDuplicates(declarations, diagnostics);

            return declarations
                .Where(d => d.IsValid)
                .Select(d => new ClaimModel(d.Claim!, d.Name!, d.Type!.Value))
                .ToEquatableArray();
        }

        /// <summary>A C# identifier. Keywords are fine: the name only ever appears as part of <c>Get{Name}</c> and <c>{Name}Claim</c>.</summary>
        internal static bool IsValidName(string name) => SyntaxFacts.IsValidIdentifier(name);

        /// <summary>
        /// The accessor name for a claim without an explicit Name: its last segment after '/' or ':' in PascalCase, so
        /// <c>https://example.com/favorite_color</c> gives <c>FavoriteColor</c>. Empty when that segment has no letter or digit.
        /// </summary>
        internal static string DeriveName(string claim)
        {
            var end = claim.Length;
            while (end > 0 && claim[end - 1] is '/' or ':')
            {
                end--;
            }

            var start = end;
            while (start > 0 && claim[start - 1] is not ('/' or ':'))
            {
                start--;
            }

            // Every other character that cannot be part of an identifier ('_', '-', '.', '#', ...) starts a new word.
            var builder = new StringBuilder(end - start);
            var startsWord = true;
            for (var i = start; i < end; i++)
            {
                var c = claim[i];
                if (!char.IsLetterOrDigit(c))
                {
                    startsWord = true;
                    continue;
                }

                builder.Append(startsWord ? char.ToUpperInvariant(c) : c);
                startsWord = false;
            }

            return builder.ToString();
        }

        /// <summary>The accessor shape for a declared type, or null when there is none.</summary>
        internal static ClaimValueType? ValueTypeOf(ITypeSymbol type) => type.SpecialType switch
        {
            SpecialType.System_String => ClaimValueType.String,
            SpecialType.System_Boolean => ClaimValueType.Boolean,
            SpecialType.System_Int32 => ClaimValueType.Int32,
            SpecialType.System_Int64 => ClaimValueType.Int64,
            SpecialType.System_Double => ClaimValueType.Double,
            _ => type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_String }
                ? ClaimValueType.StringArray
                : null,
        };

        /// <summary>The names of the members generated for an accessor name.</summary>
        internal static string[] MemberNames(string name) => new[] { "Get" + name, name + "Claim" };

        private static Declaration Read(
            AttributeSyntax syntax,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var declaration = new Declaration();
            var position = 0;

            // Syntax rather than AttributeData: it gives each value a location and still sees arguments the
            // compiler rejected, such as non-constant ones.
            foreach (var argument in syntax.ArgumentList?.Arguments ?? default)
            {
                string key;
                if (argument.NameEquals is not null)
                {
                    key = argument.NameEquals.Name.Identifier.ValueText;
                }
                else
                {
                    // A named argument that is not last must be in its own position, so both kinds take the next one.
                    var index = position++;
                    key = argument.NameColon?.Name.Identifier.ValueText
                        ?? (index == 0 ? ClaimParameter : index == 1 ? TypeParameter : string.Empty);
                }

                switch (key)
                {
                    case ClaimParameter when argument.NameEquals is null:
                        declaration.ClaimArgument = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case TypeParameter when argument.NameEquals is null:
                        declaration.TypeArgument = ReadType(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case NameProperty when argument.NameEquals is not null:
                        declaration.NameArgument = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    default:
                        // Unknown names, Claim = ... (read-only) and extra arguments are compiler errors.
                        declaration.IsValid = false;
                        break;
                }
            }

            return declaration;
        }

        private static Argument ReadArgument(
            AttributeArgumentSyntax argument,
            string key,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var expression = argument.Expression;
            var location = LocationInfo.From(expression);
            var constant = semanticModel.GetConstantValue(expression, cancellationToken);
            if (constant.HasValue)
            {
                // A constant of the wrong type is a compiler error already; the declaration is just left out.
                var isUsable = constant.Value is null or string;
                return new Argument(IsSet: true, IsKnown: isUsable, constant.Value, expression.ToString(), location);
            }

            ReportNonConstant(expression, key, location, semanticModel, diagnostics, cancellationToken);
            return new Argument(IsSet: true, IsKnown: false, null, expression.ToString(), location);
        }

        private static TypeArgument ReadType(
            AttributeArgumentSyntax argument,
            string key,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var expression = argument.Expression;
            while (expression is ParenthesizedExpressionSyntax parenthesized)
            {
                expression = parenthesized.Expression;
            }

            var location = LocationInfo.From(argument.Expression);
            if (expression is TypeOfExpressionSyntax typeOf)
            {
                // A type that does not bind already has a compiler error that says more.
                var type = semanticModel.GetTypeInfo(typeOf.Type, cancellationToken).Type;
                return type is null or IErrorTypeSymbol
                    ? new TypeArgument(IsSet: true, IsKnown: false, null, typeOf.Type.ToString(), location)
                    : new TypeArgument(IsSet: true, IsKnown: true, ValueTypeOf(type), type.ToDisplayString(), location);
            }

            var constant = semanticModel.GetConstantValue(expression, cancellationToken);
            if (constant.HasValue)
            {
                // Null is a valid Type argument but names no type; any other constant is a compiler error already.
                return new TypeArgument(IsSet: true, IsKnown: constant.Value is null, null, "null", location);
            }

            ReportNonConstant(expression, key, location, semanticModel, diagnostics, cancellationToken);
            return new TypeArgument(IsSet: true, IsKnown: false, null, expression.ToString(), location);
        }

        private static void ReportNonConstant(
            ExpressionSyntax expression,
            string key,
            LocationInfo? location,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            // An expression that does not even bind already has a compiler error that says more.
            if (semanticModel.GetTypeInfo(expression, cancellationToken).Type is not (null or IErrorTypeSymbol))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NonConstantClaimArgument, location, key));
            }
        }

        private static void Validate(Declaration declaration, List<DiagnosticInfo> diagnostics)
        {
            var claim = declaration.ClaimArgument;
            if (!claim.IsSet || !claim.IsKnown)
            {
                // A missing claim (CS7036) or a non-constant one (already reported) leaves nothing to generate.
                declaration.IsValid = false;
            }
            else if (claim.Value is not string text || text.Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Diagnostics.InvalidClaimName, claim.Location, "argument", claim.Value is null ? "is null" : "is empty"));
                declaration.IsValid = false;
            }
            else
            {
                declaration.Claim = text;
            }

            var type = declaration.TypeArgument;
            if (!type.IsSet || !type.IsKnown)
            {
                declaration.IsValid = false;
            }
            else if (type.Type is not { } valueType)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedClaimType, type.Location, declaration.DisplayClaim, type.Display));
                declaration.IsValid = false;
            }
            else
            {
                declaration.Type = valueType;
            }

            var name = declaration.NameArgument;
            if (declaration.HasExplicitName)
            {
                if (!name.IsKnown || name.Value is not string nameText)
                {
                    declaration.IsValid = false;
                }
                else if (!IsValidName(nameText))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.InvalidClaimName,
                        name.Location,
                        ApiParser.Display(declaration.DisplayClaim),
                        "has the Name " + ApiParser.Display(nameText) + ", which is not a C# identifier"));
                    declaration.IsValid = false;
                }
                else
                {
                    declaration.Name = nameText;
                }
            }
            else if (declaration.Claim is { } claimText)
            {
                var derived = DeriveName(claimText);
                if (IsValidName(derived))
                {
                    declaration.Name = derived;
                }
                else
                {
                    var problem = derived.Length == 0
                        ? "gives no accessor name, as its last segment has no letter or digit (set Name)"
                        : "gives the accessor name " + ApiParser.Display(derived) + ", which is not a C# identifier (set Name)";
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidClaimName, claim.Location, ApiParser.Display(claimText), problem));
                    declaration.IsValid = false;
                }
            }
        }

        private static void ReportDuplicates(List<Declaration> declarations, List<DiagnosticInfo> diagnostics)
        {
            // The first declaration keeps the claim or member name; every later one that repeats it is in error.
            var claims = new HashSet<string>(StringComparer.Ordinal);
            var members = new Dictionary<string, Declaration>(StringComparer.Ordinal);
            foreach (var declaration in declarations)
            {
                if (declaration.Claim is { } claim && !claims.Add(claim))
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateClaim, declaration.ClaimArgument.Location, claim, "is already declared"));
                    declaration.IsValid = false;
                    continue;
                }

                if (declaration.Name is not { } name)
                {
                    continue;
                }

                var memberNames = MemberNames(name);
                var clash = memberNames.FirstOrDefault(members.ContainsKey);
                if (clash is not null)
                {
                    var location = declaration.HasExplicitName ? declaration.NameArgument.Location : declaration.ClaimArgument.Location;
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.DuplicateClaim,
                        location,
                        declaration.DisplayClaim,
                        "would generate the member '" + clash + "', which the claim '" + members[clash].DisplayClaim + "' already generates"));
                    declaration.IsValid = false;
                    continue;
                }

                foreach (var member in memberNames)
                {
                    members.Add(member, declaration);
                }
            }
        }

        private static SemanticModel ModelFor(SyntaxTree tree, SemanticModel semanticModel) =>
            tree == semanticModel.SyntaxTree ? semanticModel : semanticModel.Compilation.GetSemanticModel(tree);

        private static bool IsClaimAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: ClaimAttributeName, ContainingType: null }
            && attributeClass.ContainingNamespace.ToDisplayString() == ClaimAttributeNamespace;

        /// <summary>One argument as written: whether it is there, and its value when that is a usable constant.</summary>
        private readonly record struct Argument(bool IsSet, bool IsKnown, object? Value, string Text, LocationInfo? Location);

        /// <summary>The type argument as written: whether the type is known, and its accessor shape when there is one.</summary>
        private readonly record struct TypeArgument(bool IsSet, bool IsKnown, ClaimValueType? Type, string Display, LocationInfo? Location);

        /// <summary>One [Auth0Claim] while it is checked; never part of the pipeline model.</summary>
        private sealed class Declaration
        {
            public Argument ClaimArgument { get; set; }

            public TypeArgument TypeArgument { get; set; }

            public Argument NameArgument { get; set; }

            public bool IsValid { get; set; } = true;

            /// <summary>The validated claim; null while unknown or invalid.</summary>
            public string? Claim { get; set; }

            public ClaimValueType? Type { get; set; }

            /// <summary>The validated accessor name, explicit or derived; null while unknown or invalid.</summary>
            public string? Name { get; set; }

            /// <summary><c>Name = ...</c> is given and not null (null means: derive it from the claim).</summary>
            public bool HasExplicitName => NameArgument.IsSet && !(NameArgument.IsKnown && NameArgument.Value is null);

            /// <summary>The claim for messages: the valid claim, else the constant, else the argument as written.</summary>
            public string DisplayClaim => Claim ?? ClaimArgument.Value as string ?? (ClaimArgument.IsSet ? ClaimArgument.Text : "?");
        }
    }
}
