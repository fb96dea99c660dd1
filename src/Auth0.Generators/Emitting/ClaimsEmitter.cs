using System.Linq;
using System.Text;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Emitting
{
    /// <summary>
    /// Emits <c>{ConfigClass}Claims</c>: for each [Auth0Claim], a constant with the claim name and a typed
    /// <c>Get{Name}</c> extension method on <c>Auth0User</c> that reads it with JsonElement APIs only.
    /// </summary>
    internal static class ClaimsEmitter
    {
        public const string HintName = "Auth0.Claims.g.cs";

        private const string User = "global::Auth0.Minimal.Auth0User";
        private const string Element = "global::System.Text.Json.JsonElement";
        private const string Kind = "global::System.Text.Json.JsonValueKind.";

        public static string ClassName(string configClassName) => configClassName + "Claims";

        public static void Emit(SourceProductionContext context, ClaimsFileModel? model)
        {
            if (model is not null)
            {
                context.AddSource(HintName, SourceText.From(Render(model), Encoding.UTF8));
            }
        }

        public static string Render(ClaimsFileModel model)
        {
            var writer = new SourceWriter().WriteFileHeader();
            if (model.Namespace is not null)
            {
                writer.OpenBlock("namespace " + model.Namespace);
            }

            writer.WriteLine("/// <summary>The ID-token claims declared with [Auth0Claim] on " + model.ConfigClassName + ": their names and typed accessors.</summary>");
            writer.WriteLine("/// <remarks>Each accessor returns null when the claim is missing or its JSON value is not of the declared kind; it never throws for that.</remarks>");
            writer.WriteLine(SourceWriter.GeneratedCodeAttribute);
            writer.OpenBlock(model.Accessibility + " static partial class " + ClassName(model.ConfigClassName));
            foreach (var claim in model.Claims)
            {
                WriteClaim(writer, claim);
                writer.WriteLine();
            }

            WriteFind(writer);
            foreach (var type in model.Claims.Select(c => c.Type).Distinct().OrderBy(t => t))
            {
                writer.WriteLine();
                WriteRead(writer, type);
            }

            writer.CloseBlock();
            if (model.Namespace is not null)
            {
                writer.CloseBlock();
            }

            return writer.ToString();
        }

        private static void WriteClaim(SourceWriter writer, ClaimModel claim)
        {
            var constant = claim.Name + "Claim";
            var accessor = "Get" + claim.Name;
            var text = ApiEmitter.XmlText(claim.Claim);
            writer.WriteLine("/// <summary>The name of the <c>" + text + "</c> claim, read by <see cref=\"" + accessor + "\"/>.</summary>");
            writer.WriteLine("public const string " + constant + " = " + RoutesEmitter.Literal(claim.Claim) + ";");
            writer.WriteLine();
            writer.WriteLine("/// <summary>The <c>" + text + "</c> claim " + Describe(claim.Type) + ".</summary>");
            writer.WriteLine("/// <param name=\"user\">The signed-in user.</param>");
            writer.WriteLine("/// <returns>The value, or null when the claim is missing or not of that kind.</returns>");
            writer.WriteLine("public static " + TypeName(claim.Type) + "? " + accessor + "(this " + User + " user) => "
                + ReadMethod(claim.Type) + "(Find(user, " + constant + "));");
        }

        private static void WriteFind(SourceWriter writer)
        {
            // A default JsonElement has the kind Undefined, so a missing claim reads as null like one of another kind.
            writer.OpenBlock("private static " + Element + " Find(" + User + " user, string claim)");
            writer.OpenBlock("if (user is null)");
            writer.WriteLine("throw new global::System.ArgumentNullException(nameof(user));");
            writer.CloseBlock();
            writer.WriteLine();
            writer.WriteLine("return user.Claims.TryGetValue(claim, out var value) ? value : default;");
            writer.CloseBlock();
        }

        private static void WriteRead(SourceWriter writer, ClaimValueType type)
        {
            var header = "private static " + TypeName(type) + "? " + ReadMethod(type) + "(" + Element + " value)";
            switch (type)
            {
                case ClaimValueType.String:
                    writer.WriteLine(header + " =>").Indent();
                    writer.WriteLine("value.ValueKind == " + Kind + "String ? value.GetString() : null;").Unindent();
                    break;
                case ClaimValueType.Boolean:
                    writer.WriteLine(header + " => value.ValueKind switch");
                    writer.WriteLine("{").Indent();
                    writer.WriteLine(Kind + "True => true,");
                    writer.WriteLine(Kind + "False => false,");
                    writer.WriteLine("_ => null,");
                    writer.Unindent().WriteLine("};");
                    break;
                case ClaimValueType.Int32:
                case ClaimValueType.Int64:
                case ClaimValueType.Double:
                    writer.WriteLine(header + " =>").Indent();
                    writer.WriteLine("value.ValueKind == " + Kind + "Number && value.TryGet" + type + "(out var number) ? number : null;").Unindent();
                    break;
                case ClaimValueType.StringArray:
                    writer.OpenBlock(header);
                    writer.OpenBlock("if (value.ValueKind == " + Kind + "String)");
                    writer.WriteLine("return new[] { value.GetString()! };");
                    writer.CloseBlock();
                    writer.WriteLine();
                    writer.OpenBlock("if (value.ValueKind != " + Kind + "Array)");
                    writer.WriteLine("return null;");
                    writer.CloseBlock();
                    writer.WriteLine();
                    writer.WriteLine("var items = new string[value.GetArrayLength()];");
                    writer.WriteLine("var count = 0;");
                    writer.OpenBlock("foreach (var item in value.EnumerateArray())");
                    writer.OpenBlock("if (item.ValueKind != " + Kind + "String)");
                    writer.WriteLine("return null;");
                    writer.CloseBlock();
                    writer.WriteLine();
                    writer.WriteLine("items[count++] = item.GetString()!;");
                    writer.CloseBlock();
                    writer.WriteLine();
                    writer.WriteLine("return items;");
                    writer.CloseBlock();
                    break;
            }
        }

        private static string TypeName(ClaimValueType type) => type switch
        {
            ClaimValueType.String => "string",
            ClaimValueType.Boolean => "bool",
            ClaimValueType.Int32 => "int",
            ClaimValueType.Int64 => "long",
            ClaimValueType.Double => "double",
            _ => "string[]",
        };

        private static string ReadMethod(ClaimValueType type) => "Read" + type;

        private static string Describe(ClaimValueType type) => type switch
        {
            ClaimValueType.String => "as a string",
            ClaimValueType.Boolean => "as a boolean (JSON true or false)",
            ClaimValueType.Int32 => "as an int (a JSON number without a fraction, in range)",
            ClaimValueType.Int64 => "as a long (a JSON number without a fraction, in range)",
            ClaimValueType.Double => "as a double (a JSON number)",
            _ => "as an array of strings (a single string gives a one-element array)",
        };
    }
}
