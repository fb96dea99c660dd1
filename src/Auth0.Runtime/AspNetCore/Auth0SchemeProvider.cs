using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// ASP.NET Core's scheme provider with its answers kept as tasks: the stock one wraps every answer in a new
/// <c>Task</c>, three or four times per authenticated request. Adding or removing a scheme starts a new set.
/// </summary>
internal sealed class Auth0SchemeProvider(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options)
{
    // The stock provider reads the default scheme names from here on every call, so a change to them shows at once.
    private readonly AuthenticationOptions _options = options.Value;

    private sealed class Answers
    {
        // Only names of schemes: names can come from requests, and unknown ones would pile up.
        public readonly ConcurrentDictionary<string, Task<AuthenticationScheme?>> ByName = new(StringComparer.Ordinal);
        public DefaultAnswer? DefaultAuthenticate;
        public Task<IEnumerable<AuthenticationScheme>>? RequestHandlers;
    }

    private sealed record DefaultAnswer(string? Authenticate, string? Default, Task<AuthenticationScheme?> Task);

    // Replaced, never cleared, on a change: an answer computed before it can only land in the set no one reads.
    private volatile Answers _answers = new();

    public override Task<AuthenticationScheme?> GetSchemeAsync(string name)
    {
        var answers = _answers;
        if (answers.ByName.TryGetValue(name, out var known)) return known;
        var task = base.GetSchemeAsync(name);
        if (task.IsCompletedSuccessfully && task.Result is not null) answers.ByName.TryAdd(name, task);
        return task;
    }

    public override Task<AuthenticationScheme?> GetDefaultAuthenticateSchemeAsync()
    {
        var answers = _answers;
        string? authenticate = _options.DefaultAuthenticateScheme, fallback = _options.DefaultScheme;
        if (answers.DefaultAuthenticate is { } kept && kept.Authenticate == authenticate && kept.Default == fallback) return kept.Task;
        var task = base.GetDefaultAuthenticateSchemeAsync();
        if (task.IsCompletedSuccessfully) answers.DefaultAuthenticate = new(authenticate, fallback, task);
        return task;
    }

    public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        var answers = _answers;
        if (answers.RequestHandlers is { } kept) return kept;
        var task = base.GetRequestHandlerSchemesAsync();
        if (task.IsCompletedSuccessfully) answers.RequestHandlers = task;
        return task;
    }

    public override void AddScheme(AuthenticationScheme scheme)
    {
        base.AddScheme(scheme);
        _answers = new();
    }

    public override bool TryAddScheme(AuthenticationScheme scheme)
    {
        var added = base.TryAddScheme(scheme);
        if (added) _answers = new();
        return added;
    }

    public override void RemoveScheme(string name)
    {
        base.RemoveScheme(name);
        _answers = new();
    }
}
