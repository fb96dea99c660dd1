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
    private sealed class Answers
    {
        public readonly ConcurrentDictionary<string, Task<AuthenticationScheme?>> ByName = new(StringComparer.Ordinal);
        public Task<AuthenticationScheme?>? DefaultAuthenticate;
        public Task<IEnumerable<AuthenticationScheme>>? RequestHandlers;
    }

    // Replaced, never cleared, on a change: an answer computed before it can only land in the set no one reads.
    private volatile Answers _answers = new();

    public override Task<AuthenticationScheme?> GetSchemeAsync(string name)
    {
        var answers = _answers;
        if (answers.ByName.TryGetValue(name, out var known)) return known;
        var task = base.GetSchemeAsync(name);
        if (task.IsCompletedSuccessfully) answers.ByName.TryAdd(name, task);
        return task;
    }

    public override Task<AuthenticationScheme?> GetDefaultAuthenticateSchemeAsync()
    {
        var answers = _answers;
        return answers.DefaultAuthenticate ?? Keep(ref answers.DefaultAuthenticate, base.GetDefaultAuthenticateSchemeAsync());
    }

    public override Task<IEnumerable<AuthenticationScheme>> GetRequestHandlerSchemesAsync()
    {
        var answers = _answers;
        return answers.RequestHandlers ?? Keep(ref answers.RequestHandlers, base.GetRequestHandlerSchemesAsync());
    }

    private static Task<T> Keep<T>(ref Task<T>? slot, Task<T> task)
    {
        if (task.IsCompletedSuccessfully) Interlocked.CompareExchange(ref slot, task, null);
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
