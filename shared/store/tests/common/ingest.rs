//! Delivering signed entries to a store as a peer would, with each outcome as one line of text
//! (`applied origin#seq` or `CODE origin#seq message`), and the rebuild key lookup that knows
//! only the store's own key history.

use quanze_domain::DivisionCode;
use quanze_ledger::{PublicKey, VerifiedEntry};
use quanze_store::{Delivery, Store};

use super::data::unverified;

/// Ingests `entries` as from a peer; one line per entry.
pub async fn deliver(store: &Store, entries: &[VerifiedEntry]) -> Vec<String> {
    let out = store.ingest("test", unverified(entries)).await.unwrap();
    out.iter()
        .map(|d| match d {
            Delivery::Applied { origin, seq } => format!("applied {origin}#{seq}"),
            Delivery::Refused { origin, seq, code, message } => format!("{code} {origin}#{seq} {message}"),
            other => format!("{other:?}"),
        })
        .collect()
}

/// A rebuild that knows no key beyond the store's own key history.
pub fn no_fallback(_: &DivisionCode, _: u64) -> Option<PublicKey> {
    None
}
