using System.Security.Cryptography;
using System.Text.Json;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.DPoP;
using Auth0.Minimal.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Auth0.Minimal.Tests.Unit;

public class DPoPTests
{
    [Fact]
    public void The_thumbprint_is_the_RFC_7638_one_Microsoft_IdentityModel_computes()
    {
        using var key = DPoPKeyPair.Generate();
        var jwk = new JsonWebKey { Kty = "EC", Crv = "P-256", X = key.X, Y = key.Y };
        Assert.Equal(Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint()), key.Thumbprint);
    }

    [Fact]
    public async Task A_proof_verifies_with_its_embedded_key_and_carries_the_RFC_9449_claims()
    {
        using var key = DPoPKeyPair.Generate();
        var factory = new DPoPProofFactory(key);
        var proof = factory.CreateProof("GET", new Uri("https://API.example.com:443/orders/1?page=2#frag"), accessToken: "at-123", nonce: "n-1");

        var jwt = new JsonWebToken(proof);
        Assert.Equal("dpop+jwt", jwt.Typ);
        Assert.Equal("ES256", jwt.Alg);
        var embedded = JsonDocument.Parse(Base64UrlEncoder.Decode(proof.Split('.')[0])).RootElement.GetProperty("jwk");
        Assert.False(embedded.TryGetProperty("d", out _)); // never the private part
        var publicKey = new JsonWebKey(embedded.GetRawText());
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(proof, new TokenValidationParameters
        {
            IssuerSigningKey = publicKey, ValidateIssuer = false, ValidateAudience = false, ValidateLifetime = false, RequireExpirationTime = false,
        });
        Assert.True(result.IsValid, result.Exception?.Message);

        Assert.Equal("GET", jwt.GetClaim("htm").Value);
        Assert.Equal("https://api.example.com/orders/1", jwt.GetClaim("htu").Value); // no query, no fragment, default port dropped
        Assert.Equal("n-1", jwt.GetClaim("nonce").Value);
        Assert.Equal(Base64Url.Encode(SHA256.HashData("at-123"u8)), jwt.GetClaim("ath").Value);
        Assert.Equal(43, jwt.GetClaim("jti").Value.Length);
        Assert.InRange(long.Parse(jwt.GetClaim("iat").Value), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.NotEqual(jwt.GetClaim("jti").Value, new JsonWebToken(factory.CreateProof("GET", new Uri("https://api.example.com/x"))).GetClaim("jti").Value);
    }

    [Fact]
    public void Clock_skew_moves_iat_and_nonces_are_kept_per_origin()
    {
        using var key = DPoPKeyPair.Generate();
        var factory = new DPoPProofFactory(key, clockSkew: TimeSpan.FromSeconds(120));
        var iat = long.Parse(new JsonWebToken(factory.CreateProof("POST", new Uri("https://a.example/token"))).GetClaim("iat").Value);
        Assert.InRange(iat - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 115, 125);

        factory.RememberNonce(new Uri("https://a.example/token"), "nonce-a");
        Assert.Equal("nonce-a", factory.NonceFor(new Uri("https://a.example/other?x=1")));
        Assert.Null(factory.NonceFor(new Uri("https://b.example/token")));
        Assert.Null(factory.NonceFor(new Uri("https://a.example:8443/token")));
        // An API on the same origin as the token endpoint has a nonce of its own.
        Assert.Null(factory.NonceFor(new Uri("https://a.example/api"), resourceServer: true));
        factory.RememberNonce(new Uri("https://a.example/api"), "nonce-api", resourceServer: true);
        Assert.Equal("nonce-api", factory.NonceFor(new Uri("https://a.example/api/orders"), resourceServer: true));
        Assert.Equal("nonce-a", factory.NonceFor(new Uri("https://a.example/token")));
    }

    [Fact]
    public void Pem_pairs_load_and_mismatched_or_foreign_keys_are_refused()
    {
        var (privatePem, publicPem) = DPoPKeyPair.GeneratePem();
        using (var loaded = DPoPKeyPair.FromPem(privatePem, publicPem))
        using (var same = DPoPKeyPair.FromPem(privatePem))
            Assert.Equal(loaded.Thumbprint, same.Thumbprint);

        var (_, otherPublic) = DPoPKeyPair.GeneratePem();
        var mismatch = Assert.Throws<DPoPException>(() => DPoPKeyPair.FromPem(privatePem, otherPublic));
        Assert.Equal(DPoPException.ConfigurationError, mismatch.Code);
        Assert.Contains("do not form a valid key pair", mismatch.Message);

        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Equal(DPoPException.ConfigurationError, Assert.Throws<DPoPException>(() => DPoPKeyPair.FromPem(p384.ExportPkcs8PrivateKeyPem())).Code);
        using var rsa = RSA.Create(2048);
        Assert.Throws<DPoPException>(() => DPoPKeyPair.FromPem(rsa.ExportPkcs8PrivateKeyPem()));
        Assert.Throws<DPoPException>(() => DPoPKeyPair.FromPem("not a pem"));
    }

    [Fact]
    public void Start_up_refuses_a_mismatched_pair_and_a_lone_public_key()
    {
        var (privatePem, _) = DPoPKeyPair.GeneratePem();
        var (_, otherPublic) = DPoPKeyPair.GeneratePem();
        var ex = Assert.Throws<Auth0ConfigurationException>(() => TestSessions.Settings("dpop-test-secret-0123456789abcdefghijkl", o =>
        {
            o.UseDPoP = true;
            o.DPoPPrivateKeyPem = privatePem;
            o.DPoPPublicKeyPem = otherPublic;
        }));
        Assert.Contains("dpop_configuration_error", ex.Message);
        Assert.Throws<Auth0ConfigurationException>(() => TestSessions.Settings("dpop-test-secret-0123456789abcdefghijkl", o =>
        {
            o.UseDPoP = true;
            o.DPoPPublicKeyPem = otherPublic;
        }));
        var generated = TestSessions.Settings("dpop-test-secret-0123456789abcdefghijkl", o => o.UseDPoP = true);
        Assert.NotNull(generated.DPoP);
        Assert.Null(TestSessions.Settings("dpop-test-secret-0123456789abcdefghijkl").DPoP);
    }
}
