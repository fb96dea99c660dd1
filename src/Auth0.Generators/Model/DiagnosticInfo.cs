using System.Linq;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators.Model
{
    /// <summary>
    /// A diagnostic as plain data; it becomes a <see cref="Diagnostic"/> only when reported.
    /// </summary>
    internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> MessageArgs)
    {
        public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, LocationInfo? location, params string[] messageArgs) =>
            new(descriptor.Id, location, messageArgs.ToEquatableArray());

        public Diagnostic ToDiagnostic() =>
            Diagnostic.Create(
                Diagnostics.GetById(Id),
                Location?.ToLocation() ?? Microsoft.CodeAnalysis.Location.None,
                MessageArgs.Cast<object>().ToArray());
    }
}
