//! GitHub App identity: the parsed private key and the short-lived RS256 JWT signed with it.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::error::{GitHubError, Result};

/// Back-dating `iat` absorbs clock drift between us and GitHub (GitHub's own advice).
pub const JWT_BACKDATE_SECS: u64 = 60;
/// GitHub rejects App JWTs living longer than 10 minutes; stay under it after backdating.
pub const JWT_LIFETIME_SECS: u64 = 9 * 60;

/// Claims of a GitHub App JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppClaims {
    /// Issued at (seconds since the epoch), backdated against clock skew.
    pub iat: u64,
    /// Expiry (seconds since the epoch), within GitHub's ten-minute cap.
    pub exp: u64,
    /// The App id, as a string (GitHub accepts the numeric id or the client id).
    pub iss: String,
}

impl AppClaims {
    /// Claims for a JWT issued at `now` (seconds since the epoch).
    pub fn at(app_id: u64, now: u64) -> Self {
        Self {
            iat: now.saturating_sub(JWT_BACKDATE_SECS),
            exp: now + JWT_LIFETIME_SECS,
            iss: app_id.to_string(),
        }
    }
}

/// An App id with its parsed RSA private key.
#[derive(Clone)]
pub struct AppCredentials {
    /// The App id (`iss` of the JWTs).
    pub app_id: u64,
    key: EncodingKey,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl AppCredentials {
    /// Parses a PEM RSA key (PKCS#1 or PKCS#8, as GitHub hands out) and proves it can sign,
    /// so a bad key fails at start-up rather than on the first webhook.
    pub fn from_pem(app_id: u64, pem: &str) -> Result<Self> {
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(key_error)?;
        let creds = Self { app_id, key };
        creds.jwt_at(now_secs())?;
        Ok(creds)
    }

    /// A fresh App JWT, valid for the next nine minutes.
    pub fn jwt(&self) -> Result<String> {
        self.jwt_at(now_secs())
    }

    pub(crate) fn jwt_at(&self, now: u64) -> Result<String> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &AppClaims::at(self.app_id, now),
            &self.key,
        )
        .map_err(key_error)
    }
}

/// Describes a key problem by kind only: jsonwebtoken's messages never include key bytes,
/// but we still avoid echoing anything derived from the input.
fn key_error(e: jsonwebtoken::errors::Error) -> GitHubError {
    use jsonwebtoken::errors::ErrorKind;
    let reason = match e.kind() {
        ErrorKind::InvalidKeyFormat => "not a PEM-encoded RSA private key".to_string(),
        ErrorKind::InvalidRsaKey(_) => "the PEM does not hold a usable RSA private key".to_string(),
        ErrorKind::RsaFailedSigning | ErrorKind::Signing(_) => {
            "the key cannot produce an RS256 signature".to_string()
        }
        ErrorKind::Base64(_) => "the PEM body is not valid base64".to_string(),
        _ => "the key could not be loaded".to_string(),
    };
    GitHubError::InvalidKey { reason }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const KEY: &str = include_str!("../tests/fixtures/app-key.pem");
    const PUBLIC: &str = include_str!("../tests/fixtures/app-key.pub.pem");

    #[test]
    fn given_a_valid_key_when_signing_then_claims_follow_github_rules() {
        let creds = AppCredentials::from_pem(4242, KEY).unwrap();
        let now = 1_800_000_000;
        let jwt = creds.jwt_at(now).unwrap();

        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_issuer(&["4242"]);
        let decoded = jsonwebtoken::decode::<AppClaims>(
            &jwt,
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &validation,
        )
        .unwrap();

        assert_eq!(decoded.header.alg, Algorithm::RS256);
        assert_eq!(decoded.claims.iss, "4242");
        assert_eq!(decoded.claims.iat, now - 60);
        assert!(decoded.claims.exp > now);
        assert!(decoded.claims.exp - decoded.claims.iat <= 600);
    }

    #[test]
    fn given_a_current_jwt_then_it_verifies_with_default_expiry_checks() {
        let creds = AppCredentials::from_pem(7, KEY).unwrap();
        let jwt = creds.jwt().unwrap();
        let validation = Validation::new(Algorithm::RS256);
        let decoded = jsonwebtoken::decode::<AppClaims>(
            &jwt,
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &validation,
        );
        assert!(decoded.is_ok(), "{decoded:?}");
    }

    #[test]
    fn given_garbage_when_parsing_then_invalid_key_without_echoing_input() {
        let secretish =
            "-----BEGIN RSA PRIVATE KEY-----\nSECRETSECRET\n-----END RSA PRIVATE KEY-----\n";
        let err = AppCredentials::from_pem(1, secretish).unwrap_err();
        assert!(matches!(err, GitHubError::InvalidKey { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SECRETSECRET"), "{shown}");
        assert!(shown.contains("private key"), "{shown}");
    }

    #[test]
    fn given_a_public_key_when_parsing_as_private_then_invalid_key() {
        let err = AppCredentials::from_pem(1, PUBLIC).unwrap_err();
        assert!(matches!(err, GitHubError::InvalidKey { .. }), "{err:?}");
    }

    #[test]
    fn debug_of_credentials_is_redacted() {
        let creds = AppCredentials::from_pem(9, KEY).unwrap();
        let shown = format!("{creds:?}");
        assert!(shown.contains("redacted") && shown.contains('9'));
        assert!(!shown.contains("MII"));
    }
}
