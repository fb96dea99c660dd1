namespace Auth0.Generators
{
    /// <summary>
    /// Names of the incremental pipeline steps, so tests can check that each step caches.
    /// </summary>
    public static class TrackingNames
    {
        public const string ConfigClasses = "Auth0.ConfigClasses";
        public const string AllConfigClasses = "Auth0.AllConfigClasses";
        public const string Selection = "Auth0.Selection";
        public const string Diagnostics = "Auth0.Diagnostics";
        public const string RoutesFile = "Auth0.RoutesFile";
        public const string EndpointsFile = "Auth0.EndpointsFile";
        public const string ServicesFile = "Auth0.ServicesFile";
        public const string ApiFiles = "Auth0.ApiFiles";
        public const string ClaimsFile = "Auth0.ClaimsFile";

        /// <summary>Every name above.</summary>
        public static readonly string[] All =
        {
            ConfigClasses, AllConfigClasses, Selection, Diagnostics, RoutesFile, EndpointsFile, ServicesFile, ApiFiles,
            AllDeclaredApiTypes, ApiFilesToEmit, ClaimsFile,
        };
    
        /// <summary>Each partial I*ApiTokenClient / *ApiHttpClient type the app declares.</summary>
        public const string DeclaredApiTypes = "Auth0.DeclaredApiTypes";

        /// <summary>Each API file model with what the app declares itself applied: the input of the emitter.</summary>
        public const string ApiFilesToEmit = "Auth0.ApiFilesToEmit";

        /// <summary>The sorted set of those names.</summary>
        public const string AllDeclaredApiTypes = "Auth0.AllDeclaredApiTypes";
    }
}
