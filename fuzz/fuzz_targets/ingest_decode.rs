//! The server's ingestion decoder (`safelane_wire::check`: the body of
//! `POST /v1/events` and `POST /v1/pings`, then every item's rules) on
//! arbitrary bytes: an error naming what is wrong, or items that each pass
//! or name a field; never a panic. The accepted items (what the server
//! stores) encode and decode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use safelane_wire::check;

const NOW_UNIX_MS: i64 = 1_763_800_000_000;

/// Whether an item is accepted; a refusal must name its field.
fn accepted(refusal: Option<impl AsRef<str>>) -> bool {
    match refusal {
        Some(why) => {
            let why = why.as_ref();
            assert!(why.contains(':'), "a refusal names its field: {why}");
            false
        }
        None => true,
    }
}

fuzz_target!(|body: &[u8]| {
    match check::decode_event_batch(body) {
        Err(e) => assert!(!e.is_empty()),
        Ok(mut batch) => {
            batch
                .events
                .retain(|e| accepted(check::check_event(e, NOW_UNIX_MS)));
            batch
                .trips
                .retain(|t| accepted(check::check_trip(t, NOW_UNIX_MS)));
            let again = serde_json::to_vec(&batch).expect("a decoded batch encodes");
            let back = check::decode_event_batch(&again).expect("and decodes again");
            assert_eq!(format!("{back:?}"), format!("{batch:?}"));
        }
    }
    if let Ok(pings) = check::decode_ping_batch(body) {
        for p in &pings.pings {
            accepted(check::check_ping(p, NOW_UNIX_MS));
        }
    }
});
