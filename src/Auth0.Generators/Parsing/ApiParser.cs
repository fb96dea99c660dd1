using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Auth0.Generators.Parsing
{
    /// <summary>Reads and validates the [Auth0Api] attributes of the configuration class.</summary>
    internal static class ApiParser
    {
        public const string ApiAttributeName = "Auth0ApiAttribute";
        public const string ApiAttributeNamespace = "Auth0.Minimal";

        // The constructor parameter and the settable properties of Auth0ApiAttribute.
        public const string NameParameter = "name";
        public const string AudienceProperty = "Audience";
        public const string ScopeProperty = "Scope";
        public const string BaseAddressProperty = "BaseAddress";
        public const string UseDPoPProperty = "UseDPoP";

        /// <summary>
        /// Returns the valid declarations, in source order, and adds a diagnostic for each problem. A declaration
        /// with a problem is left out, so the code generated for the others stays free of follow-on errors.
        /// </summary>
        /// <param name="dpopEnabled">
        /// The UseDPoP value of [Auth0Config], or null when it is not a constant bool (a compiler error already).
        /// </param>
        public static EquatableArray<ApiModel> Parse(
            INamedTypeSymbol type,
            SemanticModel semanticModel,
            bool? dpopEnabled,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            // GetAttributes covers every partial declaration; each may be in its own syntax tree.
            var syntaxes = new List<AttributeSyntax>();
            foreach (var attribute in type.GetAttributes())
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (IsApiAttribute(attribute.AttributeClass)
                    && attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax syntax)
                {
                    syntaxes.Add(syntax);
                }
            }

            if (syntaxes.Count == 0)
            {
                return EquatableArray<ApiModel>.Empty;
            }

            // By position, so which of two clashing declarations is "first" does not depend on file order.
            var declarations = syntaxes
                .OrderBy(s => s.SyntaxTree.FilePath, StringComparer.Ordinal)
                .ThenBy(s => s.SpanStart)
                .Select(s => Read(s, ModelFor(s.SyntaxTree, semanticModel), diagnostics, cancellationToken))
                .ToList();

            var configName = type.ToDisplayString();
            foreach (var declaration in declarations)
            {
                Validate(declaration, diagnostics);
                ValidateDPoP(declaration, dpopEnabled, configName, diagnostics);
            }

            ReportDuplicates(declarations, diagnostics);

            return declarations
                .Where(d => d.IsValid)
                .Select(d => new ApiModel(d.Name!, (string)d.Audience.Value!, d.Scope.Value as string, d.BaseAddress.Value as string, d.UseDPoP))
                .ToEquatableArray();
        }

        /// <summary>A C# identifier that is not a keyword, so <c>I{name}ApiTokenClient</c> is a valid type name.</summary>
        internal static bool IsValidName(string name) =>
            SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;

        /// <summary>An absolute URI with an explicit scheme (so not a bare or drive-letter path) and no whitespace.</summary>
        internal static bool IsValidAudience(string audience) =>
            audience.Length > 0
            && !audience.Any(IsWhiteSpaceOrControl)
            && SchemeLength(audience) >= 2
            && Uri.TryCreate(audience, UriKind.Absolute, out _);

        /// <summary>Null when <paramref name="scope"/> is a valid OAuth scope (RFC 6749, section 3.3), else why not.</summary>
        internal static string? ScopeProblem(string scope)
        {
            if (scope.Length == 0)
            {
                return "it is empty";
            }

            for (var i = 0; i < scope.Length; i++)
            {
                var c = scope[i];
                if (c != ' ' && (c < '\x21' || c > '\x7e' || c == '"' || c == '\\'))
                {
                    return "it contains " + Describe(scope, i);
                }
            }

            return scope.Trim(' ').Length == 0 ? "it has no scope token" : null;
        }

        /// <summary>An absolute http(s) URL with a host and no user info, query or fragment.</summary>
        internal static bool IsValidBaseAddress(string baseAddress) =>
            (baseAddress.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                || baseAddress.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            && !baseAddress.Any(c => IsWhiteSpaceOrControl(c) || c is '?' or '#')
            && Uri.TryCreate(baseAddress, UriKind.Absolute, out var uri)
            && (uri.Scheme == "https" || uri.Scheme == "http")
            && uri.Host.Length > 0
            && uri.UserInfo.Length == 0;

        private static Declaration Read(
            AttributeSyntax syntax,
            SemanticModel semanticModel,
            List<DiagnosticInfo> diagnostics,
            CancellationToken cancellationToken)
        {
            var declaration = new Declaration(LocationInfo.From(syntax));
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
                else if (argument.NameColon is not null)
                {
                    key = argument.NameColon.Name.Identifier.ValueText;
                }
                else
                {
                    // Only the first positional argument exists; any other is a compiler error.
                    key = position++ == 0 ? NameParameter : string.Empty;
                }

                switch (key)
                {
                    case NameParameter when argument.NameEquals is null:
                        declaration.NameArgument = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case AudienceProperty when argument.NameEquals is not null:
                        declaration.Audience = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case ScopeProperty when argument.NameEquals is not null:
                        declaration.Scope = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case BaseAddressProperty when argument.NameEquals is not null:
                        declaration.BaseAddress = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        break;
                    case UseDPoPProperty when argument.NameEquals is not null:
                        var useDPoP = ReadArgument(argument, key, semanticModel, diagnostics, cancellationToken);
                        declaration.UseDPoPLocation = useDPoP.Location;
                        if (useDPoP.Value is bool value)
                        {
                            declaration.UseDPoP = value;
                        }
                        else
                        {
                            declaration.IsValid = false;
                        }

                        break;
                    default:
                        // Unknown names, Name = ... (read-only) and extra arguments are compiler errors.
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
                var isUsable = constant.Value is null or string or bool;
                return new Argument(IsSet: true, IsKnown: isUsable, constant.Value, expression.ToString(), location);
            }

            // An expression that does not even bind already has a compiler error that says more.
            if (semanticModel.GetTypeInfo(expression, cancellationToken).Type is not (null or IErrorTypeSymbol))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NonConstantApiArgument, location, key));
            }

            return new Argument(IsSet: true, IsKnown: false, null, expression.ToString(), location);
        }

        private static void Validate(Declaration declaration, List<DiagnosticInfo> diagnostics)
        {
            var name = declaration.NameArgument;
            if (!name.IsSet || !name.IsKnown || name.Value is not (null or string))
            {
                // A missing name (CS7036) or a non-constant one (already reported) leaves nothing to generate.
                declaration.IsValid = false;
            }
            else if (name.Value is not string text || !IsValidName(text))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidApiName, name.Location, Display(name.Value)));
                declaration.IsValid = false;
            }
            else
            {
                declaration.Name = text;
            }

            var apiName = declaration.DisplayName;
            var audience = declaration.Audience;
            if (!audience.IsSet || (audience.IsKnown && audience.Value is null))
            {
                var location = audience.IsSet ? audience.Location : declaration.Location;
                diagnostics.Add(DiagnosticInfo.Create(
                    Diagnostics.InvalidApiAudience, location, apiName, audience.IsSet ? "null" : "not set"));
                declaration.IsValid = false;
            }
            else if (!IsKnownString(audience, out var audienceText))
            {
                declaration.IsValid = false;
            }
            else if (!IsValidAudience(audienceText))
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Diagnostics.InvalidApiAudience, audience.Location, apiName, Display(audienceText) + ", which is not an absolute URI"));
                declaration.IsValid = false;
            }

            var scope = declaration.Scope;
            if (scope.IsSet && !(scope.IsKnown && scope.Value is null))
            {
                if (!IsKnownString(scope, out var scopeText))
                {
                    declaration.IsValid = false;
                }
                else if (ScopeProblem(scopeText) is { } problem)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.InvalidApiScope, scope.Location, apiName, Display(scopeText), problem));
                    declaration.IsValid = false;
                }
            }

            var baseAddress = declaration.BaseAddress;
            if (baseAddress.IsSet && !(baseAddress.IsKnown && baseAddress.Value is null))
            {
                if (!IsKnownString(baseAddress, out var baseAddressText))
                {
                    declaration.IsValid = false;
                }
                else if (!IsValidBaseAddress(baseAddressText))
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        Diagnostics.InvalidApiBaseAddress, baseAddress.Location, apiName, Display(baseAddressText)));
                    declaration.IsValid = false;
                }
            }
        }

        private static void ValidateDPoP(Declaration declaration, bool? dpopEnabled, string configName, List<DiagnosticInfo> diagnostics)
        {
            if (!declaration.UseDPoP)
            {
                return;
            }

            // A base address that is set but invalid or not a constant has an error of its own.
            var baseAddress = declaration.BaseAddress;
            if (!baseAddress.IsSet || (baseAddress.IsKnown && baseAddress.Value is null))
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DPoPApiWithoutBaseAddress, declaration.UseDPoPLocation, declaration.DisplayName));
                declaration.IsValid = false;
            }

            // Null: [Auth0Config]'s own UseDPoP has a compiler error, which says more.
            if (dpopEnabled == false)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    Diagnostics.DPoPApiWhileDPoPOff, declaration.UseDPoPLocation, declaration.DisplayName, configName));
                declaration.IsValid = false;
            }
        }

        private static void ReportDuplicates(List<Declaration> declarations, List<DiagnosticInfo> diagnostics)
        {
            // The first declaration keeps the name or audience; every later one that repeats it is in error.
            var names = new Dictionary<string, Declaration>(StringComparer.OrdinalIgnoreCase);
            var audiences = new Dictionary<string, Declaration>(StringComparer.Ordinal);
            foreach (var declaration in declarations)
            {
                if (declaration.Name is { } name)
                {
                    if (names.TryGetValue(name, out var first))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateApiName, declaration.NameArgument.Location, first.Name!));
                        declaration.IsValid = false;
                    }
                    else
                    {
                        names.Add(name, declaration);
                    }
                }

                if (declaration.Audience.Value is string audience && IsValidAudience(audience))
                {
                    if (audiences.TryGetValue(audience, out var first))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(
                            Diagnostics.DuplicateApiAudience, declaration.Audience.Location, first.DisplayName, declaration.DisplayName, audience));
                        declaration.IsValid = false;
                    }
                    else
                    {
                        audiences.Add(audience, declaration);
                    }
                }
            }
        }

        private static bool IsKnownString(Argument argument, out string value)
        {
            value = argument.Value as string ?? string.Empty;
            return argument.IsKnown && argument.Value is string;
        }

        private static SemanticModel ModelFor(SyntaxTree tree, SemanticModel semanticModel) =>
            tree == semanticModel.SyntaxTree ? semanticModel : semanticModel.Compilation.GetSemanticModel(tree);

        private static bool IsApiAttribute(INamedTypeSymbol? attributeClass) =>
            attributeClass is { Name: ApiAttributeName, ContainingType: null }
            && attributeClass.ContainingNamespace.ToDisplayString() == ApiAttributeNamespace;

        private static bool IsWhiteSpaceOrControl(char c) => char.IsWhiteSpace(c) || char.IsControl(c);

        // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), followed by ':'.
        private static int SchemeLength(string value)
        {
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c == ':')
                {
                    return i;
                }

                var isAlpha = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z');
                if (!(isAlpha || (i > 0 && (c is (>= '0' and <= '9') or '+' or '-' or '.'))))
                {
                    return 0;
                }
            }

            return 0;
        }

        private static string Describe(string text, int index)
        {
            var c = text[index];
            if (c > '\x20' && c < '\x7f')
            {
                return "'" + c + "'";
            }

            var codePoint = char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1])
                ? char.ConvertToUtf32(c, text[index + 1])
                : c;
            return "U+" + codePoint.ToString("X4", CultureInfo.InvariantCulture);
        }

        /// <summary>A value as a C# literal, so control characters and quotes are visible in messages.</summary>
        internal static string Display(object? value) => value switch
        {
            null => "null",
            string text => SymbolDisplay.FormatLiteral(text, quote: true),
            _ => value.ToString() ?? string.Empty,
        };

        /// <summary>One argument as written: whether it is there, and its value when that is a usable constant.</summary>
        private readonly record struct Argument(bool IsSet, bool IsKnown, object? Value, string Text, LocationInfo? Location);

        /// <summary>One [Auth0Api] while it is checked; never part of the pipeline model.</summary>
        private sealed class Declaration
        {
            public Declaration(LocationInfo? location) => Location = location;

            public LocationInfo? Location { get; }

            public Argument NameArgument { get; set; }

            public Argument Audience { get; set; }

            public Argument Scope { get; set; }

            public Argument BaseAddress { get; set; }

            public bool UseDPoP { get; set; }

            /// <summary>Where the UseDPoP value is written; the DPoP errors point there.</summary>
            public LocationInfo? UseDPoPLocation { get; set; }

            public bool IsValid { get; set; } = true;

            /// <summary>The validated name; null while unknown or invalid.</summary>
            public string? Name { get; set; }

            /// <summary>The name for messages: the valid name, else the constant, else the argument as written.</summary>
            public string DisplayName => Name ?? NameArgument.Value as string ?? (NameArgument.IsSet ? NameArgument.Text : "?");
        }
    }
}
