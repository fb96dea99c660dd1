using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Model
{
    /// <summary>
    /// A source position as plain data: a <see cref="Location"/> holds its syntax tree, which would
    /// defeat caching and keep old compilations alive.
    /// </summary>
    internal sealed record LocationInfo(string FilePath, TextSpan TextSpan, LinePositionSpan LineSpan)
    {
        public Location ToLocation() => Location.Create(FilePath, TextSpan, LineSpan);

        public static LocationInfo? From(SyntaxNode node) => From(node.GetLocation());

        public static LocationInfo? From(SyntaxToken token) => From(token.GetLocation());

        public static LocationInfo? From(Location location) =>
            location.SourceTree is null
                ? null
                : new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }
}
