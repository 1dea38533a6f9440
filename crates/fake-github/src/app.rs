//! The fake GitHub App's identity (id, slug, TEST-ONLY RSA key pair), RS256 JWT
//! verification the way GitHub checks App JWTs, and installation-token minting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The fake App's id: put it in the JWT's `iss` claim.
pub const APP_ID: u64 = 4242;

/// The fake App's slug; its bot user is `paydown[bot]`.
pub const APP_SLUG: &str = "paydown";

/// TEST-ONLY private key of the fake App (PKCS#1 PEM, like the keys GitHub
/// hands out). Public on purpose; never configure it for a real App.
const TEST_ONLY_PRIVATE_KEY_PEM: &str = include_str!("../keys/TEST_ONLY_app_private_key.pem");
const TEST_ONLY_PUBLIC_KEY_PEM: &str = include_str!("../keys/TEST_ONLY_app_public_key.pem");

/// The PEM private key the client under test signs its App JWTs with.
pub fn app_private_key_pem() -> &'static str {
    TEST_ONLY_PRIVATE_KEY_PEM
}

/// Login of the App's bot user, as comments it posts are attributed.
pub fn bot_login() -> String {
    format!("{APP_SLUG}[bot]")
}

/// Why an App JWT was refused; the text is GitHub's message for the case.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct JwtRejected(pub String);

#[derive(Deserialize)]
struct Claims {
    iss: serde_json::Value,
    iat: i64,
    exp: i64,
}

/// Verifies an App JWT as GitHub does: RS256 signature by the App's key, `iss`
/// equal to the App id (number or string), `iat` not in the future and `exp`
/// not past and at most ten minutes ahead (60 s of clock drift allowed).
pub(crate) fn verify_app_jwt(token: &str) -> Result<(), JwtRejected> {
    let key = DecodingKey::from_rsa_pem(TEST_ONLY_PUBLIC_KEY_PEM.as_bytes())
        .map_err(|e| JwtRejected(format!("fake-github: bad built-in public key: {e}")))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false; // checked below with GitHub's own rules
    validation.validate_aud = false;
    // jsonwebtoken only understands string `iss`; GitHub's JWTs carry a number,
    // so `iss` and `iat` are required by `Claims` and checked below instead.
    validation.required_spec_claims = ["exp"].into_iter().map(String::from).collect();
    let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|e| JwtRejected(format!("A JSON web token could not be decoded ({e})")))?;
    let claims = data.claims;
    let iss_ok = match &claims.iss {
        serde_json::Value::Number(n) => n.as_u64() == Some(APP_ID),
        serde_json::Value::String(s) => s == &APP_ID.to_string(),
        _ => false,
    };
    if !iss_ok {
        return Err(JwtRejected(
            "'Issuer' claim ('iss') must be an Integer equal to the App id".into(),
        ));
    }
    let now = unix_now();
    if claims.iat > now + 60 {
        return Err(JwtRejected(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past".into(),
        ));
    }
    if claims.exp < now {
        return Err(JwtRejected(
            "'Expiration time' claim ('exp') is too far in the past".into(),
        ));
    }
    if claims.exp > now + 600 + 60 {
        return Err(JwtRejected(
            "'Expiration time' claim ('exp') is too far in the future".into(),
        ));
    }
    if claims.exp <= claims.iat {
        return Err(JwtRejected(
            "'Expiration time' claim ('exp') must be after 'iat'".into(),
        ));
    }
    Ok(())
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A fresh unguessable-enough token with GitHub's prefix (`ghs_` for
/// installation tokens). Uniqueness comes from a process-wide counter and the
/// clock; the fake guards nothing, so a hash of those is enough.
pub(crate) fn mint_token(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(n.to_le_bytes());
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    format!("{prefix}{}", &hex::encode(h.finalize())[..36])
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};

    fn sign(claims: serde_json::Value) -> String {
        let key = EncodingKey::from_rsa_pem(app_private_key_pem().as_bytes()).unwrap();
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    #[test]
    fn given_a_jwt_signed_with_the_app_key_then_it_verifies() {
        let now = unix_now();
        let jwt = sign(serde_json::json!({"iss": APP_ID, "iat": now - 60, "exp": now + 540}));
        assert_eq!(verify_app_jwt(&jwt), Ok(()));
        let jwt = sign(serde_json::json!({"iss": APP_ID.to_string(), "iat": now, "exp": now + 60}));
        assert_eq!(verify_app_jwt(&jwt), Ok(()));
    }

    #[test]
    fn given_bad_claims_then_the_jwt_is_rejected() {
        let now = unix_now();
        for claims in [
            serde_json::json!({"iss": 1, "iat": now, "exp": now + 60}),
            serde_json::json!({"iss": APP_ID, "iat": now - 900, "exp": now - 300}),
            serde_json::json!({"iss": APP_ID, "iat": now, "exp": now + 3600}),
            serde_json::json!({"iss": APP_ID, "iat": now + 600, "exp": now + 650}),
            serde_json::json!({"iss": APP_ID, "exp": now + 60}),
        ] {
            assert!(verify_app_jwt(&sign(claims.clone())).is_err(), "{claims}");
        }
        assert!(verify_app_jwt("not.a.jwt").is_err());
    }

    #[test]
    fn minted_tokens_differ_per_call() {
        let a = mint_token("ghs_");
        let b = mint_token("ghs_");
        assert_ne!(a, b);
        assert!(a.starts_with("ghs_") && a.len() == 40);
    }
}
