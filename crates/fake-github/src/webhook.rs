//! Webhook sending for tests: GitHub's `X-Hub-Signature-256` and a POST with
//! the headers GitHub sends, so the real server's verification is exercised.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `sha256=<hex HMAC-SHA256 of body keyed with secret>`, as in `X-Hub-Signature-256`.
pub fn sign_webhook(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// POSTs `body` to `url` as GitHub delivers event `event` with id `delivery_id`,
/// signed with `secret`.
pub async fn send_webhook(
    url: &str,
    secret: &str,
    event: &str,
    delivery_id: &str,
    body: &[u8],
) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/fake")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery_id)
        .header("x-github-hook-id", "1")
        .header(
            "x-github-hook-installation-target-id",
            crate::APP_ID.to_string(),
        )
        .header("x-github-hook-installation-target-type", "integration")
        .header("x-hub-signature-256", sign_webhook(secret, body))
        .body(body.to_vec())
        .send()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_githubs_documented_example() {
        // From GitHub's "Validating webhook deliveries" docs.
        assert_eq!(
            sign_webhook("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
