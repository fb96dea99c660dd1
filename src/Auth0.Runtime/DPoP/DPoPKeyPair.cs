using System.Security.Cryptography;
using System.Text;
using Auth0.Minimal.Crypto;

namespace Auth0.Minimal;

/// <summary>Why DPoP could not be set up; <see cref="Auth0Exception.Code"/> is one of the nextjs-auth0 DPoP codes.</summary>
public sealed class DPoPException(string code, string message, Exception? inner = null) : Auth0Exception(code, message, inner)
{
    public const string JktCalculationFailed = "dpop_jkt_calculation_failed";
    public const string KeyExportFailed = "dpop_key_export_failed";
    public const string ConfigurationError = "dpop_configuration_error";
}

/// <summary>
/// The ES256 (P-256) key that binds access tokens to this app (RFC 9449). The private key stays in memory: it is never
/// written to a cookie or a log.
/// </summary>
public sealed class DPoPKeyPair : IDisposable
{
    private readonly ECDsa _key;

    private DPoPKeyPair(ECDsa key)
    {
        _key = key;
        var parameters = key.ExportParameters(includePrivateParameters: false);
        X = Base64Url.Encode(parameters.Q.X);
        Y = Base64Url.Encode(parameters.Q.Y);
        // RFC 7638: the required members in lexicographic order, no whitespace.
        var canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + X + "\",\"y\":\"" + Y + "\"}";
        Thumbprint = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(canonical)));
    }

    /// <summary>Base64url x coordinate of the public key.</summary>
    public string X { get; }
    /// <summary>Base64url y coordinate of the public key.</summary>
    public string Y { get; }
    /// <summary>The RFC 7638 SHA-256 JWK thumbprint (what Auth0 puts in <c>cnf.jkt</c> and <c>dpop_jkt</c>).</summary>
    public string Thumbprint { get; }

    internal ECDsa Key => _key;

    public static DPoPKeyPair Generate() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    /// <summary>The counterpart of nextjs-auth0's <c>generateDpopKeyPair</c>: a new pair as PEM (PKCS#8 private, SPKI public).</summary>
    public static (string PrivateKeyPem, string PublicKeyPem) GeneratePem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (key.ExportPkcs8PrivateKeyPem(), key.ExportSubjectPublicKeyInfoPem());
    }

    /// <summary>
    /// Loads a pair from PEM (PKCS#8 or SEC1 private key; SPKI public key, optional). Refuses keys that are not P-256
    /// and a public key that does not belong to the private key.
    /// </summary>
    /// <exception cref="DPoPException"><c>dpop_configuration_error</c>.</exception>
    public static DPoPKeyPair FromPem(string privateKeyPem, string? publicKeyPem = null)
    {
        ECDsa key;
        try
        {
            key = ECDsa.Create();
            key.ImportFromPem(privateKeyPem);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw new DPoPException(DPoPException.ConfigurationError, "AUTH0_DPOP_PRIVATE_KEY is not an EC private key in PEM format (PKCS#8 or SEC1).", ex);
        }
        var parameters = key.ExportParameters(includePrivateParameters: false);
        if (key.KeySize != 256 || parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            key.Dispose();
            throw new DPoPException(DPoPException.ConfigurationError, "The DPoP key must be a P-256 (ES256) key.");
        }
        byte[] probe = RandomNumberGenerator.GetBytes(32), signature;
        try
        {
            // A public key in the private-key setting would only fail at the first token request.
            signature = key.SignData(probe, HashAlgorithmName.SHA256);
        }
        catch (CryptographicException ex)
        {
            key.Dispose();
            throw new DPoPException(DPoPException.ConfigurationError, "AUTH0_DPOP_PRIVATE_KEY holds no private key (is it the public key?).", ex);
        }
        if (publicKeyPem is not null)
        {
            using var publicKey = ECDsa.Create();
            try { publicKey.ImportFromPem(publicKeyPem); }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                key.Dispose();
                throw new DPoPException(DPoPException.ConfigurationError, "AUTH0_DPOP_PUBLIC_KEY is not an EC public key in PEM format (SPKI).", ex);
            }
            // Sign with one, verify with the other: a mismatched pair would mint proofs no server accepts.
            if (publicKey.KeySize != 256 || !publicKey.VerifyData(probe, signature, HashAlgorithmName.SHA256))
            {
                key.Dispose();
                throw new DPoPException(DPoPException.ConfigurationError, "AUTH0_DPOP_PUBLIC_KEY does not belong to AUTH0_DPOP_PRIVATE_KEY: the private and public keys do not form a valid key pair.");
            }
        }
        return new DPoPKeyPair(key);
    }

    public string ExportPublicKeyPem() => _key.ExportSubjectPublicKeyInfoPem();

    public void Dispose() => _key.Dispose();
}
