//! Who a request is made as: a plain token, the App (its JWT) or one
//! installation (its cached token), and whose rate limit it counts against.

use std::sync::Arc;

use octocrab::secrecy::SecretString;

use crate::app::{AppShared, TokenSlot};
use crate::error::Result;

/// Who a request is made as.
#[derive(Clone)]
pub(crate) enum Auth {
    Token(SecretString),
    App(Arc<AppShared>),
    Installation {
        app: Arc<AppShared>,
        id: u64,
        slot: Arc<TokenSlot>,
    },
}

impl Auth {
    /// Whom GitHub's rate limits count: the installation, the App, or the token.
    pub(super) fn caller_key(&self) -> String {
        match self {
            Auth::Token(_) => "token".to_owned(),
            Auth::App(_) => "app".to_owned(),
            Auth::Installation { id, .. } => format!("installation:{id}"),
        }
    }

    /// The App's write pacer and the installation, for an installation
    /// client: where a rate limit's quiet window is shared across replicas.
    pub(super) fn pacer(&self) -> Option<(&dyn crate::pacing::WritePacer, u64)> {
        match self {
            Auth::Installation { app, id, .. } => Some((app.pacer.get()?.as_ref(), *id)),
            _ => None,
        }
    }
}

/// A bearer credential plus the cache generation it came from (for 401 invalidation).
pub(crate) struct Bearer {
    pub(crate) secret: SecretString,
    pub(crate) generation: u64,
}

impl Auth {
    pub(super) async fn bearer(&self) -> Result<Bearer> {
        match self {
            Auth::Token(t) => Ok(Bearer {
                secret: t.clone(),
                generation: 0,
            }),
            Auth::App(app) => Ok(Bearer {
                secret: app.jwt()?,
                generation: 0,
            }),
            // Boxed: minting a token runs a request itself (as the App).
            Auth::Installation { app, id, slot } => Box::pin(slot.bearer(app, *id)).await,
        }
    }
}
