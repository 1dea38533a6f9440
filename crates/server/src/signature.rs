//! Webhook signature verification: `X-Hub-Signature-256` is `sha256=<hex>`,
//! an HMAC-SHA256 of the raw request body keyed with the webhook secret.
//! Several secrets may be configured at once so a secret can be rotated
//! without dropping deliveries signed with the old one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was not accepted. Used as the metrics label,
/// so the variants are deliberately coarse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    /// The header is not `sha256=` and 64 hex digits.
    #[error("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>")]
    Malformed,
    /// No configured secret signs this body so.
    #[error("X-Hub-Signature-256 does not match any configured webhook secret")]
    Mismatch,
}

impl SignatureError {
    /// Short, stable reason used in metrics labels and logs.
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "signature_missing",
            SignatureError::Malformed => "signature_malformed",
            SignatureError::Mismatch => "signature_mismatch",
        }
    }
}

/// The set of accepted webhook secrets. `Debug` never shows them.
#[derive(Clone)]
pub struct WebhookSecrets {
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} redacted)", self.secrets.len())
    }
}

impl WebhookSecrets {
    /// Returns `None` when no non-empty secret is given: an empty key would
    /// make every forged signature trivially computable.
    pub fn new<I, S>(secrets: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let secrets: Vec<Vec<u8>> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_vec())
            .filter(|s| !s.is_empty())
            .collect();
        (!secrets.is_empty()).then_some(Self { secrets })
    }

    /// Verifies `header` (the raw `X-Hub-Signature-256` value) against `body`
    /// with every secret, in constant time per comparison.
    pub fn verify(&self, header: Option<&[u8]>, body: &[u8]) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let hex_part = header
            .strip_prefix(b"sha256=")
            .ok_or(SignatureError::Malformed)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut expected).map_err(|_| SignatureError::Malformed)?;
        // Check every secret rather than stopping at the first match so the
        // timing does not reveal which secret (old or new) signed the body.
        let mut matched = false;
        for secret in &self.secrets {
            let mut mac =
                HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
            mac.update(body);
            matched |= mac.verify_slice(&expected).is_ok();
        }
        if matched {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Computes the `X-Hub-Signature-256` header value GitHub would send for
/// `body` signed with `secret`. Used by tests and the benchmark.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &[&str]) -> WebhookSecrets {
        WebhookSecrets::new(list.iter().copied()).unwrap()
    }

    #[test]
    fn github_documented_example_verifies() {
        // Given the example from GitHub's "Validating webhook deliveries" docs.
        let body = b"Hello, World!";
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        // Then it verifies with the documented secret and not with another.
        assert_eq!(sign(b"It's a Secret to Everybody", body), header);
        let ok = secrets(&["It's a Secret to Everybody"]);
        assert_eq!(ok.verify(Some(header.as_bytes()), body), Ok(()));
        let other = secrets(&["another"]);
        assert_eq!(
            other.verify(Some(header.as_bytes()), body),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_any_configured_secret() {
        let set = secrets(&["old", "new"]);
        for key in ["old", "new"] {
            let sig = sign(key.as_bytes(), b"{}");
            assert_eq!(set.verify(Some(sig.as_bytes()), b"{}"), Ok(()));
        }
        let sig = sign(b"retired", b"{}");
        assert_eq!(
            set.verify(Some(sig.as_bytes()), b"{}"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn missing_malformed_and_tampered_headers_are_rejected() {
        let set = secrets(&["s"]);
        assert_eq!(set.verify(None, b"x"), Err(SignatureError::Missing));
        assert_eq!(
            set.verify(Some(b"sha1=abcd"), b"x"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            set.verify(Some(b"sha256=zz"), b"x"),
            Err(SignatureError::Malformed)
        );
        let sig = sign(b"s", b"body");
        assert_eq!(
            set.verify(Some(sig.as_bytes()), b"body!"),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn empty_secrets_are_refused() {
        assert!(WebhookSecrets::new(["", ""]).is_none());
        assert!(format!("{:?}", secrets(&["hunter2"])).contains("redacted"));
        assert!(!format!("{:?}", secrets(&["hunter2"])).contains("hunter2"));
    }
}
