using System.Security.Cryptography;
using Auth0.Minimal.DPoP;
using BenchmarkDotNet.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// One DPoP proof for a resource request (htm, htu, iat, jti, ath, nonce; ES256 with the public JWK in the header):
/// ours (Utf8JsonWriter + ECDsa, header encoded once) against Microsoft.IdentityModel's JsonWebTokenHandler.
/// </summary>
[MemoryDiagnoser]
public class DPoPProofBenchmarks
{
    private static readonly Uri Target = new("https://api.example.com/orders/42?page=1");
    private const string AccessToken = "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhdXRoMHxhbGljZSIsImF1ZCI6Imh0dHBzOi8vb3JkZXJzLmV4YW1wbGUuY29tIn0.signature-part-of-a-realistic-length-0123456789abcdefghijklmnopqrstuvwxyz";
    private DPoPKeyPair _key = null!;
    private DPoPProofFactory _ours = null!;
    private JsonWebTokenHandler _handler = null!;
    private SigningCredentials _credentials = null!;
    private Dictionary<string, object> _jwk = null!;

    [GlobalSetup]
    public void Setup()
    {
        _key = DPoPKeyPair.Generate();
        _ours = new DPoPProofFactory(_key);
        _handler = new JsonWebTokenHandler();
        _credentials = new SigningCredentials(new ECDsaSecurityKey(_key.Key), SecurityAlgorithms.EcdsaSha256);
        _jwk = new Dictionary<string, object> { ["kty"] = "EC", ["crv"] = "P-256", ["x"] = _key.X, ["y"] = _key.Y };
    }

    [GlobalCleanup]
    public void Cleanup() => _key.Dispose();

    [Benchmark(Baseline = true)]
    public string JsonWebTokenHandler_CreateToken()
    {
        var ath = Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(AccessToken)));
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = "dpop+jwt",
            SigningCredentials = _credentials,
            AdditionalHeaderClaims = new Dictionary<string, object> { ["jwk"] = _jwk },
            Claims = new Dictionary<string, object>
            {
                ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
                ["jti"] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)),
                ["htm"] = "GET",
                ["htu"] = DPoPProofFactory.Htu(Target),
                ["nonce"] = "server-nonce-1",
                ["ath"] = ath,
            },
        });
    }

    [Benchmark]
    public string Auth0Minimal_CreateProof() => _ours.CreateProof("GET", Target, AccessToken, "server-nonce-1");
}
