namespace System.Runtime.CompilerServices
{
    // netstandard2.0 lacks this type, and records need it for their init-only properties.
    internal static class IsExternalInit
    {
    }
}
